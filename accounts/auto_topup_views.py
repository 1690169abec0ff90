"""The automatic top-up section of an eSIM's page: turn it on (or change it) and turn it off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from checkout.services import auto_topup, saved_cards
from core.language import current_language
from core.roamify_client import UpstreamError

from . import selectors
from .forms import AutoTopupForm


def _back(esim) -> HttpResponse:
    return redirect(reverse("accounts:esim_detail", args=[esim.pk]) + "#auto-topup")


@require_POST
@login_required
def auto_topup_on(request: HttpRequest, pk: int) -> HttpResponse:
    esim = selectors.customer_esim(request.user, pk)
    try:
        offers = selectors.auto_topup_offers(esim)
    except UpstreamError:
        messages.error(
            request, _("We couldn't check the top-ups of this eSIM just now. Please try again in a minute.")
        )
        return _back(esim)
    form = AutoTopupForm(
        request.POST, offers=offers, cards=saved_cards.cards_of(request.user), currency=request.currency
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(esim)
    data = form.cleaned_data
    auto_topup.set_up(
        customer=request.user,
        esim=esim,
        package=form.offers[data["package"]],
        card=form.cards[data["card"]],
        below_mb=data.get("below_mb"),
        below_days=data.get("below_days"),
        max_per_month=data["max_per_month"],
        max_cents_per_month=data["max_amount"],
        currency=request.currency,
        language=current_language(),
    )
    messages.success(request, _("Automatic top-up is on."))
    return _back(esim)


@require_POST
@login_required
def auto_topup_off(request: HttpRequest, pk: int) -> HttpResponse:
    esim = selectors.customer_esim(request.user, pk)
    auto_topup.turn_off(customer=request.user, esim=esim)
    messages.success(request, _("Automatic top-up is off."))
    return _back(esim)
