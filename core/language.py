"""The page's language: from its URL, a first visit's guess, a signed-in customer's choice.

Customer pages live at one URL per language (storefront/urls.py: English unprefixed, /es/…,
/pt-br/…), so a page's language is a function of its path and every cache keyed by URL (this
process's memory, Redis, nginx) keeps each language apart without varying on anything.

Two exceptions read more than the path:
- `/` on a first visit (no language cookie yet) is sent to the browser's language by
  `FirstVisitMiddleware`, which sits above the page cache so a cached English home page never
  answers a visitor who should be redirected. The redirect sets the cookie, so it happens once.
- staff paths (`BROWSER_LANGUAGE_PATH_PREFIXES`: the admin) follow the person, not the URL:
  their saved language, the language cookie, then Accept-Language.
A signed-in customer's saved language (`SESSION_LANGUAGE_KEY`, put in the session at sign-in and
by the switcher) sends their English, unprefixed, page views to their language.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import is_valid_path, translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from .middleware import PERSONAL_COOKIES

# The signed-in customer's saved language, copied into their session (accounts/language.py).
SESSION_LANGUAGE_KEY = "shop_language"


def current_language() -> str:
    """The active language as one of the shop's codes (what an order or a saved choice keeps)."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def _safe_method(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD")


def path_in(language: str, path: str) -> str | None:
    """`path` (an English, unprefixed page) in `language`, or None when it is no customer page."""
    prefixed = path if language == settings.LANGUAGE_CODE else f"/{language}{path}"
    with translation.override(language):
        return prefixed if is_valid_path(prefixed) else None


class FirstVisitMiddleware:
    """`/` without a language cookie: a redirect to the browser's language (Accept-Language), once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != "/" or not _safe_method(request):
            return self.get_response(request)
        first_visit = settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not any(
            c in request.COOKIES for c in PERSONAL_COOKIES
        )
        if not first_visit:
            # Chosen before (or signed in: LanguageMiddleware decides): the path's language, English.
            return self.get_response(request)
        language = translation.get_language_from_request(request, check_path=False)
        if language == settings.LANGUAGE_CODE:
            response = self.get_response(request)
        else:
            query = request.META.get("QUERY_STRING", "")
            response = HttpResponseRedirect(f"/{language}/" + (f"?{query}" if query else ""))
            # Set here, so the next visit to / is the visitor's choice, never this guess again.
            # A response that sets a cookie is private (core.middleware) and never stored by nginx.
            set_language_cookie(response, language)
        # What a first visit to / gets depends on Accept-Language: no cache may answer another
        # browser with it (nginx keeps a variant per value; deploy/nginx/nginx.conf.template).
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


class LanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, but unprefixed customer pages are always English (their
    content never depends on Accept-Language, so they carry no `Vary: Accept-Language` that would
    split the edge cache), staff pages follow the person, and a signed-in customer's saved language
    takes their English page views to their language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self.browser_prefixes = tuple(settings.BROWSER_LANGUAGE_PATH_PREFIXES)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        from_path = translation.get_language_from_path(request.path_info)
        saved = _saved_language(request)
        if from_path:
            language = from_path
        elif request.path_info.startswith(self.browser_prefixes):
            language = saved or translation.get_language_from_request(request, check_path=False)
        else:
            language = settings.LANGUAGE_CODE
            if saved and saved != language and _safe_method(request):
                target = path_in(saved, request.path_info)
                if target:
                    query = request.META.get("QUERY_STRING", "")
                    return HttpResponseRedirect(target + (f"?{query}" if query else ""))
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path_info.startswith(self.browser_prefixes):
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _saved_language(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    if session is None or not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return None  # no session to read: no query for an anonymous visitor
    saved = session.get(SESSION_LANGUAGE_KEY)
    return saved if saved in dict(settings.LANGUAGES) else None


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _languages(request: HttpRequest) -> list[dict]:
    current = translation.get_language()
    # The path without its query: a page never repeats what a link's query said (it could be
    # anyone's), and the alternates of a page are its own addresses.
    path = request.path
    found = []
    for code, name in settings.LANGUAGES:
        url = path if code == current else translate_url(path, code)
        found.append(
            {
                "code": code,
                "name": name,  # in its own language (settings.LANGUAGES): never translated
                # None: this page has no address in that language (a 404, a staff page).
                "url": url if code == current or url != path else None,
                "current": code == current,
            }
        )
    return found


def _alternates(request: HttpRequest, languages: list[dict]) -> list[dict]:
    if not all(language["url"] for language in languages):
        return []
    alternates = [
        {"hreflang": language["code"], "href": request.build_absolute_uri(language["url"])}
        for language in languages
    ]
    default = next(a for a in alternates if a["hreflang"] == settings.LANGUAGE_CODE)
    return [*alternates, {"hreflang": "x-default", "href": default["href"]}]


def languages(request: HttpRequest) -> dict:
    """Template context: `shop_languages`, the shop's languages with this page's URL in each (the
    switcher), and `shop_alternates`, the hreflang links (absolute, plus x-default; empty on a page
    that is not in every language). Worked out only when a template reads them: the admin's pages
    never do."""
    found = SimpleLazyObject(lambda: _languages(request))
    return {
        "shop_languages": found,
        "shop_alternates": SimpleLazyObject(lambda: _alternates(request, found)),
    }
