from __future__ import annotations

import hmac
import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from catalog.currency import RateUnavailable, get_currency
from core.attribution import visit_of
from esims.qr import qr_data_uri
from payments.providers import PaymentError

from .. import cart, selectors, services
from ..forms import CheckoutForm
from ..models import LineKind, Order, OrderStatus
from ..services.attribution import record_visit
from .cart import back_to_cart, cart_context, discounted

logger = logging.getLogger(__name__)


@require_POST
def checkout_start(request: HttpRequest) -> HttpResponse:
    try:
        priced = cart.priced(request.session, get_currency(request))
    except RateUnavailable as exc:
        # No fresh rate for the visitor's currency: nothing is charged at an old one, nothing changes.
        messages.error(request, str(exc))
        return redirect("checkout:cart_detail")
    for notice in priced.notices:
        messages.warning(request, notice)
    if priced and priced.removed:
        # The cart changed under the customer's eyes (a plan withdrawn, an eSIM gone): show it first.
        return redirect("checkout:cart_detail")
    if not priced:
        # A second submit after the first placed the order (and emptied the cart): go to that order.
        recent = selectors.recent_unpaid_order(request.session)
        if recent is not None:
            return redirect(recent.get_absolute_url())
        messages.error(request, _("Your cart is empty."))
        return redirect("checkout:cart_detail")
    priced = discounted(request, priced, request.POST.get("email", ""))
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    form = CheckoutForm(request.POST, needs_travel_date=needs_date)
    if not form.is_valid():
        return render(request, "checkout/cart.html", cart_context(request, priced, form), status=400)
    try:
        order = services.place_order(
            priced,
            form.cleaned_data["email"],
            request.user,
            form.cleaned_data.get("travel_date"),
            checkout_key=cart.token(request.session),
            gift_cards=cart.applied_gift_cards(request.session),
            store_credit=cart.uses_store_credit(request.session),
            # Checked again: one that does not apply now places nothing, so no price is a surprise.
            discount_code=cart.discount_code(request.session),
        )
    except services.DiscountNoLongerApplies as exc:
        cart.remove_discount_code(request.session)
        messages.error(request, str(exc))
        return redirect("checkout:cart_detail")
    except services.Undeliverable as exc:
        # Said above the cart (it may be left empty); the line found dead leaves the cart.
        priced = cart.priced(request.session, priced.currency)
        # Translators: %(reason)s is a whole sentence saying which line can no longer be delivered.
        removed = _("%(reason)s It was removed from your cart.") % {"reason": exc}
        messages.error(request, removed if priced.removed else str(exc))
        return render(request, "checkout/cart.html", cart_context(request, priced, form), status=400)
    except services.CheckoutError as exc:
        form.add_error(None, str(exc))
        return render(request, "checkout/cart.html", cart_context(request, priced, form), status=400)
    services.marketing.record_checkout_choice(order.email, form.cleaned_data.get("offers", False))
    record_visit(order, visit_of(request))  # where the visit came from (utm_*, ref, the site)
    _remember(request, order)
    cart.clear(request.session)
    # place_order checked the lines just now (on a double submit, the request that placed it did)
    save_card = bool(form.cleaned_data.get("save_card")) and request.user.is_authenticated
    return _to_payment(request, order, lines_checked=True, save_card=save_card)


def _to_payment(
    request: HttpRequest, order: Order, *, lines_checked: bool = False, save_card: bool = False
) -> HttpResponse:
    try:
        url = services.start_payment(order, lines_checked=lines_checked, save_card=save_card)
    except services.Undeliverable as exc:
        # Translators: %(reason)s is a whole sentence saying which line can no longer be delivered.
        messages.error(request, _("%(reason)s This order is cancelled.") % {"reason": exc})
        return redirect(order.get_absolute_url())
    except (PaymentError, services.CheckoutError) as exc:
        logger.warning("could not start payment for %s: %s", order.number, exc)
        messages.error(
            request,
            _(
                "We couldn't open the payment page just now. "
                "Your order is saved: please try again in a moment."
            ),
        )
        return redirect(order.get_absolute_url())
    return redirect(url or order.get_absolute_url(), permanent=False)


def _remember(request: HttpRequest, order: Order) -> None:
    numbers = request.session.get("orders", [])
    if numbers[:1] != [order.number]:  # no session write when nothing changes
        request.session["orders"] = [order.number, *[n for n in numbers if n != order.number]][:20]


def _order_for(request: HttpRequest, number: str) -> Order:
    """The order, if this visitor may see it (owner, the link's token, or this session)."""
    # PostgreSQL text cannot hold NUL: such a number is simply not an order (not a 500).
    order = None if "\x00" in number else Order.objects.filter(number=number[:20]).first()
    if order is None:
        raise Http404
    # compare_digest refuses non-ASCII str: compare bytes, so any token is just "wrong".
    token = request.GET.get("t", "").encode()
    allowed = (
        (token and hmac.compare_digest(token, order.access_token.encode()))
        or (request.user.is_authenticated and order.customer_id == request.user.id)
        or number in request.session.get("orders", [])
    )
    if not allowed:
        raise Http404  # the same answer whether the order exists or not
    return order


@require_safe
@never_cache  # it shows the eSIM's activation code and QR: no browser or proxy may keep it
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_for(request, number)
    _remember(request, order)
    if "t" in request.GET:
        # The link's token has done its job: this session may see the order now. The clean URL
        # keeps the token out of access logs, proxies and the browser's history from here on.
        rest = request.GET.copy()
        rest.pop("t")
        query = rest.urlencode()
        return redirect(order.get_absolute_url() + (f"?{query}" if query else ""))
    if request.GET.get("cancelled") and request.method == "GET" and back_to_cart(request, order):
        return redirect("checkout:cart_detail")
    session_id = request.GET.get("session_id", "")
    if order.status == OrderStatus.PENDING_PAYMENT and session_id and not request.GET.get("cancelled"):
        services.confirm_return(order, session_id)  # once; then the webhook and the reconciler
        order.refresh_from_db()
    return render(request, "checkout/order.html", _order_context(order, request))


def _order_context(order: Order, request: HttpRequest) -> dict:
    esims = list(order.esims) if order.status == OrderStatus.COMPLETED else []
    for esim in esims:
        esim.qr = qr_data_uri(esim.lpa_code) if esim.lpa_code else ""
    lines = list(order.lines.all())
    topups = [line for line in lines if line.kind == LineKind.TOPUP]
    return {
        "order": order,
        "lines": lines,
        "esims": esims,
        # The words after purchase follow what was bought: eSIM, top-up, gift card (or a mix).
        "kind": selectors.purchase_kind({line.kind for line in lines}),
        "topups": topups,
        "owner": request.user.is_authenticated and order.customer_id == request.user.id,
        "cancelled": bool(request.GET.get("cancelled")),
        "waiting": order.status in (OrderStatus.PAID, OrderStatus.FULFILLING),
    }


@require_safe
def order_status(request: HttpRequest, number: str) -> JsonResponse:
    """Polled by the order page until the eSIM is ready. Never calls the payment provider."""
    order = _order_for(request, number)
    kind = selectors.order_kind(order)
    body = {"status": order.status, "status_label": selectors.status_label(order, kind), "kind": kind}
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_for(request, number)
    if order.status != OrderStatus.PENDING_PAYMENT:
        messages.info(request, _("This order is already paid or closed."))
        return redirect(order.get_absolute_url())
    return _to_payment(request, order)
