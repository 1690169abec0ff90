"""How the checkout admin shows things: times in the shop's zone, inlines nobody edits."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.utils import timezone


def when(value: dt.datetime | None) -> str:
    """A time in the shop's zone, saying which ("3 Dec 2025, 14:05 UTC")."""
    return timezone.localtime(value).strftime("%-d %b %Y, %H:%M %Z") if value else "—"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
