"""The customer's store credit (/account/credit/, owner only): balance, when it expires, history,
and the "Invite friends" block (their share link and referrals; verified customers only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from storecredit import selectors as credit

from .invite import invite_for


@require_safe
@login_required
def store_credit(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/store_credit.html",
        {
            "statement": credit.statement(request.user),
            "invite": invite_for(request.user),
            "section": "credit",
        },
    )
