from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """Shared helpers of every app, and the mail outbox of the demo and tests."""

    name = "core"
    verbose_name = "Shop"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose `admin.site` lets in only staff signed in with two factors."""

    default = False  # core's own config stays CoreConfig

    default_site = "core.staff_mfa.StaffAdminSite"
