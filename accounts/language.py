"""The language switcher's endpoint and a signed-in customer's saved language.

The switcher (templates/base.html) posts here from cached pages, which hold no CSRF token, so
it is guarded like the add-to-cart form (`same_origin_post`). Django's `set_language` does the
work (the language cookie, the same page in the chosen language); this adds the signed-in
customer's saved language (`Preferences.language`), which follows them to every sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import LANGUAGE_QUERY_PARAMETER
from django.views.i18n import set_language as django_set_language

from core.language import SESSION_LANGUAGE_KEY
from core.security import same_origin_post

from .models import Preferences


def save_language(user, language: str) -> None:
    Preferences.objects.update_or_create(user=user, defaults={"language": language})


@require_POST
@same_origin_post
def set_language(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next", "")
    # translate_url reads `next` in the language it is in: its prefix, or English without one.
    with translation.override(translation.get_language_from_path(next_url) or settings.LANGUAGE_CODE):
        response = django_set_language(request)
    language = request.POST.get(LANGUAGE_QUERY_PARAMETER, "")
    if language in dict(settings.LANGUAGES) and request.user.is_authenticated:
        save_language(request.user, language)
        request.session[SESSION_LANGUAGE_KEY] = language
    return response


@receiver(user_logged_in, dispatch_uid="accounts-saved-language")
def use_saved_language(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """At sign-in, the customer's saved language becomes their session's (core/language.py)."""
    if request is None or not hasattr(request, "session"):
        return
    saved = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    if saved:
        request.session[SESSION_LANGUAGE_KEY] = saved
