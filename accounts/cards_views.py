"""Saved cards (list, remove) and the one-tap top-up, for the signed-in owner only.

A card or eSIM id that is not the customer's answers 404. The one-tap form posts here from the
eSIM's page and from the low-data email's signed link page; both show it only to the eSIM's owner
signed in, and this view checks it again: a signed link alone never spends a card (anyone holding
a forwarded email could otherwise buy with the owner's card).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from catalog.models import Package
from checkout.services import one_tap, saved_cards

from . import selectors


@require_safe
@login_required
def card_list(request: HttpRequest) -> HttpResponse:
    cards = saved_cards.cards_of(request.user)
    return render(request, "accounts/saved_cards.html", {"cards": cards, "section": "settings"})


@require_POST
@login_required
def card_remove(request: HttpRequest) -> HttpResponse:
    """Remove one card (the list's confirm button): detached at Stripe, then no longer listed."""
    card = saved_cards.card_of(request.user, request.POST.get("card"))
    if card is None:
        raise Http404
    if saved_cards.remove(card):
        messages.success(
            request,
            _("Your card ending in %(last4)s is removed. It can no longer be charged.")
            % {"last4": card.last4},
        )
    else:
        messages.error(request, _("We couldn't remove your card just now. Please try again in a minute."))
    return redirect("accounts:card_list")


@require_POST
@login_required
def one_tap_topup(request: HttpRequest) -> HttpResponse:
    """Buy a top-up with a saved card, after the one confirmation of its form."""
    esim = selectors.customer_esim(request.user, _int(request.POST.get("esim")))
    card = saved_cards.card_of(request.user, request.POST.get("card"))
    if card is None:
        raise Http404
    back = _back(request, reverse("accounts:esim_detail", args=[esim.pk]) + "#top-ups")
    package = Package.objects.active().filter(package_id=request.POST.get("package", "")[:160]).first()
    if package is None:
        messages.error(
            request, _("That top-up doesn't fit this eSIM. Please pick one of the top-ups listed here.")
        )
        return redirect(back)
    # The form's own token: a double tap (or a reload of the answer) finds the first purchase.
    token = request.POST.get("key", "")[:64]
    result = one_tap.buy_topup_with_saved_card(
        customer=request.user,
        esim=esim,
        package=package,
        card=card,
        idempotency_key=f"page:{request.user.pk}:{esim.pk}:{package.package_id}:{card.pk}:{token}",
        source="one tap on " + ("the low-data link" if "/esim/top-up/" in back else "the eSIM page"),
    )
    if result.status == "paid" and result.order is not None:
        messages.success(request, result.message)
        return redirect(result.order.get_absolute_url())
    if result.status == "pending" and result.order is not None:  # being confirmed: its page shows how
        messages.info(request, result.message)
        return redirect(result.order.get_absolute_url())
    if result.status == "needs_authentication" and result.redirect_url:
        return redirect(result.redirect_url)
    messages.error(request, result.message)
    return redirect(back)


def _int(value: object) -> int:
    text = str(value or "")
    if not text.isdigit() or len(text) > 18:
        raise Http404
    return int(text)


def _back(request: HttpRequest, default: str) -> str:
    """Where the form was (the eSIM's page, or the signed link's): only a page of this site."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return default
