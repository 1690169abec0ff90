"""The admin is for staff signed in with two factors (allauth's MFA: TOTP and recovery codes).

A session counts as "two-factor" when allauth recorded an `mfa` authentication in it for this
user: a sign-in that passed the TOTP (or recovery code) step, an MFA re-authentication, or the
TOTP activation itself (the staff member just entered a code from their app; see the receiver
below). Staff without TOTP are sent to set it up; staff whose session lacks the second factor
confirm a code; everyone else meets the admin's usual refusal, and the admin's own password form
is never used: /admin/login/ sends people to allauth's rate-limited sign-in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

TOTP = Authenticator.Type.TOTP


def has_totp(request: HttpRequest) -> bool:
    """Does the signed-in user have TOTP set up? Asked once per request (the admin asks thrice)."""
    if not hasattr(request, "_staff_has_totp"):
        request._staff_has_totp = is_mfa_enabled(request.user, [TOTP])  # type: ignore[attr-defined]
    return request._staff_has_totp  # type: ignore[attr-defined]


def used_second_factor(request: HttpRequest) -> bool:
    """Did this session's user pass an MFA step (allauth's authentication records)?"""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def staff_redirect(request: HttpRequest, next_url: str) -> HttpResponse | None:
    """Where a signed-in staff member without the second factor goes instead (None: let them in,
    or they are not staff and the admin's usual refusal applies)."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if not has_totp(request):
        messages.warning(
            request, "Staff accounts need two-factor authentication: set it up to open the admin."
        )
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
    if not used_second_factor(request):
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")
    return None


class StaffAdminSite(AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Every ModelAdmin, the apps' and Django's own alike, gets the shop's guard against odd input
        (core.admin_tools.GuardedInputMixin): one registered later cannot forget it."""
        from .admin_tools import GuardedInputMixin

        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, GuardedInputMixin):
            admin_class = type(
                admin_class.__name__,
                (GuardedInputMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and has_totp(request) and used_second_factor(request)

    def admin_view(self, view, cacheable: bool = False):
        checked = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.path != reverse("admin:logout", current_app=self.name):
                redirect = staff_redirect(request, request.get_full_path())
                if redirect is not None:
                    return redirect
            return checked(request, *args, **kwargs)

        inner.admin_site = self  # type: ignore[attr-defined]
        return inner

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated and request.method == "GET":
            redirect = staff_redirect(request, next_url)
            if redirect is not None:
                return redirect
            if not request.user.is_staff:
                return super().login(request, extra_context)  # "not authorized": the admin's refusal
            if self.has_permission(request):
                return HttpResponseRedirect(next_url)
        # Passwords are only ever checked by allauth's sign-in, with its rate limits.
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return HttpResponseRedirect(f"{reverse('account_login')}?{query}")


@receiver(authenticator_added)
def _totp_activation_counts_as_second_factor(sender, request, user, authenticator, **kwargs) -> None:
    """Activating TOTP takes a code from the new app: the session has used a second factor."""
    from allauth.account.internal.flows.login import record_authentication

    if authenticator.type == TOTP and request is not None and request.user == user:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
