from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from core.security import client_ip

from . import ratelimit, services


@require_safe
def share_link(request: HttpRequest, code: str) -> HttpResponse:
    """A customer's share link: the code becomes the cart's code, and the visit lands on the home
    page with `?ref=` (what attribution records). An unknown code just lands home."""
    home = reverse("catalog:home")
    ip = client_ip(request)
    if ratelimit.blocked(ip, request.user):
        return redirect(home)
    found = services.by_code(code)
    if found is None or not found.active:
        ratelimit.record_failure(ip, request.user)
        return redirect(home)
    request.session[services.SESSION_KEY] = found.code
    return redirect(f"{home}?{urlencode({'ref': found.code})}")
