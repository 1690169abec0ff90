from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from catalog.currency import RateUnavailable, get_currency
from core.security import client_ip, same_origin_post
from discounts import services as discounts
from discounts.rules import Refused
from giftcards import selectors as giftcard_selectors
from giftcards import services as giftcards
from giftcards.forms import CodeForm
from giftcards.views import buy_page, purchase_form
from storecredit.services import spending as store_credit

from .. import cart, selectors, services
from ..forms import CheckoutForm
from ..models import LineKind, OrderStatus


@require_POST
@same_origin_post
def cart_add(request: HttpRequest) -> HttpResponse:
    try:
        package = cart.add(
            request.session, request.POST.get("package", ""), request.POST.get("quantity", "1")
        )
    except cart.CartError as exc:
        messages.error(request, str(exc))
        return redirect(_back_within_the_shop(request))
    added = ngettext(
        "Added %(name)s %(data)s, %(days)s day to your cart.",
        "Added %(name)s %(data)s, %(days)s days to your cart.",
        package.days,
    )
    name = package.destination.local_name
    messages.success(request, added % {"name": name, "data": package.data_label, "days": package.days})
    return redirect("checkout:cart_detail")


def _back_within_the_shop(request: HttpRequest) -> str:
    """The page the visitor came from, if it is ours (Referer is whatever the client says)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "checkout:cart_detail"


@require_http_methods(["GET", "HEAD", "POST"])
def cart_detail(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        package_id = request.POST.get("package", "")
        try:
            if request.POST.get("action") == "remove":
                cart.remove(request.session, package_id)
                messages.success(request, _("Removed from your cart."))
            else:
                cart.set_quantity(request.session, package_id, request.POST.get("quantity"))
                messages.success(request, _("Cart updated."))
        except cart.CartError as exc:
            messages.error(request, str(exc))
        return redirect("checkout:cart_detail")
    priced = priced_for(request)
    if not priced and not priced.removed and "orders" in request.session and request.method == "GET":
        # Back from the payment page (the browser's Back, or the cart link): the cart became an order
        # waiting for payment. It is the cart again, to change and pay, not an order to pay as it is.
        recent = selectors.recent_unpaid_order(request.session)
        if recent is not None and back_to_cart(request, recent):
            priced = priced_for(request)
    for notice in priced.notices:
        messages.warning(request, notice)
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    if request.session.get(cart.EMAIL_KEY):  # an order's lines put back: its email too
        initial = {"email": request.session[cart.EMAIL_KEY]}
    form = CheckoutForm(initial=initial, needs_travel_date=needs_date)
    return render(request, "checkout/cart.html", cart_context(request, priced, form))


def back_to_cart(request: HttpRequest, order) -> bool:
    """Back from the card page (its cancel_url) or to the cart while the order waits: the unpaid order
    is cancelled and its lines are the cart again, to change and pay. False when it is paid or closed."""
    if order.status != OrderStatus.PENDING_PAYMENT or not services.reopen_for_cart(order.pk):
        return False
    cart.restore(request.session, order)
    messages.info(
        request, _("Payment not completed: your card was not charged. Your cart is as you left it.")
    )
    return True


def priced_for(request: HttpRequest) -> cart.PricedCart:
    """The cart in the visitor's currency. Without a fresh rate for it, the cart is shown in the base
    currency with the reason (RateUnavailable's message): checkout in that currency is refused."""
    try:
        priced = cart.priced(request.session, get_currency(request))
    except RateUnavailable as exc:
        messages.error(request, str(exc))
        priced = cart.priced(request.session)
    return discounted(request, priced)


def discounted(request: HttpRequest, priced: cart.PricedCart, email: str = "") -> cart.PricedCart:
    """The cart with its discount code, for the buyer as far as the cart knows them (placing the
    order checks again with the email given)."""
    user = request.user if request.user.is_authenticated else None
    email = email or (user.email if user else "") or request.session.get(cart.EMAIL_KEY, "")
    return cart.with_discount(priced, request.session, selectors.discount_buyer(email, user))


def cart_context(request: HttpRequest, priced: cart.PricedCart, form: CheckoutForm) -> dict:
    """What the cart page shows: its lines, and what the applied gift cards would pay (a card in
    another currency at the rate now, shown beside it before paying)."""
    applied = cart.applied_gift_cards(request.session)
    try:
        plan = giftcard_selectors.plan_redemption(
            applied, priced.payable_by_gift_card_cents, priced.currency or None, cart.rate_between
        )
    except RateUnavailable as exc:
        messages.error(request, str(exc))
        plan = []
    if len(plan) < len(applied):  # disabled, expired or revoked since it was applied
        for card_id in set(applied) - {r.card.pk for r in plan}:
            cart.unapply_gift_card(request.session, card_id)
        messages.warning(request, _("A gift card you applied can no longer be used and was removed."))
    by_gift_cards = sum(r.amount_cents for r in plan)
    credit = store_credit_context(request, priced, by_gift_cards)
    return {
        "cart": priced,
        "form": form,
        "gift_plan": plan,
        "gift_cards_cents": by_gift_cards,
        **credit,
        "to_pay_cents": priced.total_cents - by_gift_cards - credit["credit_cents"],
        # "We send your eSIM here" only when there is an eSIM to send.
        "cart_kind": selectors.purchase_kind(
            {LineKind.TOPUP if line.esim else LineKind.ESIM for line in priced.lines}
            | ({LineKind.GIFTCARD} if priced.gift_lines else set())
        ),
        "code_form": CodeForm(),
    }


# --- Gift cards: bought as lines, applied to pay --------------------------------------------------------


@require_POST
def cart_add_gift_card(request: HttpRequest) -> HttpResponse:
    form = purchase_form(request, request.POST)
    if not form.is_valid():
        return buy_page(request, form, status=400)
    try:
        line = cart.add_gift_card(request.session, form.line_data())
    except cart.CartError as exc:
        messages.error(request, str(exc))
        return redirect("giftcards:buy")
    added = _("Added a gift card for %(name)s to your cart.") % {"name": line.recipient_name}
    messages.success(request, added)
    return redirect("checkout:cart_detail")


@require_POST
def cart_remove_gift_card(request: HttpRequest) -> HttpResponse:
    cart.remove_gift_card(request.session, request.POST.get("line", ""))
    messages.success(request, _("Removed from your cart."))
    return redirect("checkout:cart_detail")


@require_POST
def cart_gift_code(request: HttpRequest) -> HttpResponse:
    """Apply a gift card code to pay (rate limited; one message for every failure), or remove one."""
    if request.POST.get("action") == "remove":
        cart.unapply_gift_card(request.session, request.POST.get("card", ""))
        messages.success(request, _("Gift card removed from this order."))
        return redirect("checkout:cart_detail")
    try:
        card = giftcards.find_by_code(request.POST.get("code", ""), ip=client_ip(request), user=request.user)
        cart.apply_gift_card(request.session, card.pk)
    except (giftcards.GiftCardError, cart.CartError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Gift card …%(last)s applied.") % {"last": card.last_characters})
    return redirect("checkout:cart_detail")


@require_POST
def cart_discount_code(request: HttpRequest) -> HttpResponse:
    """Apply a discount code (guesses rate limited), or remove it. One code per order: a code that
    applies replaces the one before (and says so); one that does not apply to this cart is refused
    with the reason, and the one before stays."""
    if request.POST.get("action") == "remove":
        cart.remove_discount_code(request.session)
        messages.success(request, _("Discount code removed."))
        return redirect("checkout:cart_detail")
    try:
        code = discounts.find(request.POST.get("code", ""), ip=client_ip(request), user=request.user)
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect("checkout:cart_detail")
    previous = cart.set_discount_code(request.session, code.code)
    priced = priced_for(request)
    if priced.discount_refusal:
        if previous:
            cart.set_discount_code(request.session, previous)
        else:
            cart.remove_discount_code(request.session)
        # Translators: e.g. "JAPAN10: This code is valid for Japan plans only."
        refusal = _("%(code)s: %(reason)s") % {"code": code.code, "reason": priced.discount_refusal}
        messages.error(request, refusal)
    elif previous:
        replaced = _("Code %(code)s applied instead of %(previous)s: one code per order.")
        messages.success(request, replaced % {"code": code.code, "previous": previous})
    else:
        messages.success(request, _("Code %(code)s applied.") % {"code": code.code})
    return redirect("checkout:cart_detail")


# --- Store credit: used to pay, beside gift cards ------------------------------------------------------


def store_credit_context(request: HttpRequest, priced: cart.PricedCart, by_gift_cards: int) -> dict:
    """The signed-in customer's credit (base currency), and what it pays of this cart when they chose
    to use it: what the gift cards left, never a gift card line, worked out as `place_order` will."""
    available = store_credit.balance_of(request.user)
    used = 0
    if available and cart.uses_store_credit(request.session):
        currency = priced.currency or settings.SHOP_CURRENCY
        base_total = store_credit.to_base(
            priced.total_cents, currency, priced.rate.per_base if priced.rate else None
        )
        used, _base = store_credit.share(
            available,
            priced.payable_by_gift_card_cents - by_gift_cards,
            by_gift_cards,
            priced.total_cents,
            base_total,
        )
    return {"credit_available_cents": available, "credit_cents": used}


@require_POST
def cart_store_credit(request: HttpRequest) -> HttpResponse:
    """Use the signed-in customer's store credit on this cart, or stop using it."""
    if not request.user.is_authenticated:
        return redirect("checkout:cart_detail")
    use = request.POST.get("action") != "remove"
    cart.use_store_credit(request.session, use)
    messages.success(
        request,
        _("Your store credit is used for this order.") if use else _("Store credit removed from this order."),
    )
    return redirect("checkout:cart_detail")
