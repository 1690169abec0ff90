"""The gift card pages: buy one, check a balance, and the buyer's cards with the revoke flow.

Adding a card to the cart is checkout's view (giftcards never import
checkout); it renders the buy page again through `buy_page` when the form
has errors.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from catalog.currency import RateUnavailable, current_rate, get_currency
from core.money import format_money
from core.security import client_ip

from . import selectors, services
from .forms import CodeForm, OneTimeCodeForm, PurchaseForm
from .models import GiftCard, Status, Template


def purchase_form(request: HttpRequest, data=None) -> PurchaseForm:
    """The buy form in the visitor's currency (amounts converted at the current rate); in the base
    currency, with the reason said, when that currency has no fresh rate."""
    currency = get_currency(request)
    try:
        rate = current_rate(currency)
    except RateUnavailable as exc:
        messages.warning(request, str(exc))
        return PurchaseForm(data, currency=settings.SHOP_CURRENCY)
    return PurchaseForm(data, currency=currency, per_base=rate.per_base)


def buy_page(request: HttpRequest, form: PurchaseForm | None = None, status: int = 200) -> HttpResponse:
    return render(
        request,
        "giftcards/buy.html",
        {"form": form or purchase_form(request), "templates": Template.choices},
        status=status,
    )


@require_safe
def buy(request: HttpRequest) -> HttpResponse:
    return buy_page(request)


@require_http_methods(["GET", "POST"])
def balance(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    card = None
    if request.method == "POST" and form.is_valid():
        try:
            card = services.find_by_code(form.cleaned_data["code"], ip=client_ip(request), user=request.user)
        except services.GiftCardError as exc:
            form.add_error("code", str(exc))
        else:
            form = CodeForm()  # the code is not echoed back on the page
    status = 400 if request.method == "POST" and card is None else 200
    response = render(request, "giftcards/balance.html", {"form": form, "card": card}, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- The buyer's cards (account area) ----------------------------------------------------------------


@login_required
@require_safe
def account_list(request: HttpRequest) -> HttpResponse:
    cards = selectors.cards_bought_by(request.user)
    for card in cards:
        card.revoke_blocker = services.revoke_blocker(card)
        # A live card with nothing left says so, rather than "Active".
        used_up = card.status == Status.ACTIVE and card.balance_cents == 0
        card.state_label = _("Used up") if used_up else card.get_status_display()
    return render(request, "giftcards/account_list.html", {"cards": cards, "section": "giftcards"})


@login_required
@require_http_methods(["GET", "POST"])
def account_revoke(request: HttpRequest, card_id: int) -> HttpResponse:
    try:
        card = services.buyer_card(card_id, request.user)
    except GiftCard.DoesNotExist:
        raise Http404 from None  # the same answer for someone else's card and no card
    otp_form, sent_to, status = OneTimeCodeForm(), "", 200
    action = request.POST.get("action")
    if action == "send":
        try:
            sent_to = services.start_revoke(card.pk, request.user, ip=client_ip(request))
        except services.GiftCardError as exc:
            messages.error(request, str(exc))
            return redirect("giftcards:account_revoke", card_id=card.pk)
    elif action == "confirm":
        otp_form = OneTimeCodeForm(request.POST)
        sent_to = "again"
        if otp_form.is_valid():
            try:
                refunded = services.confirm_revoke(card.pk, request.user, otp_form.cleaned_data["otp"])
            except services.GiftCardError as exc:
                otp_form.add_error("otp", str(exc))
            else:
                messages.success(
                    request,
                    _("Gift card revoked. %(amount)s is on its way back to the card you paid with.")
                    % {"amount": format_money(refunded, card.currency)}
                    if refunded
                    else _("Gift card revoked."),
                )
                return redirect("giftcards:account_list")
        status = 400
    return render(
        request,
        "giftcards/account_revoke.html",
        {
            "card": card,
            "blocker": services.revoke_blocker(card),
            "otp_form": otp_form,
            "sent_to": sent_to,
            "minutes": settings.GIFTCARD_OTP_MINUTES,
        },
        status=status,
    )
