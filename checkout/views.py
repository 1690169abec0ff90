from __future__ import annotations

import hmac
import logging

import stripe
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import cart, services
from .forms import CheckoutForm
from .models import Order, OrderStatus
from .payments import PaymentError, gateway
from .qr import qr_data_uri

logger = logging.getLogger(__name__)


@require_POST
def checkout_start(request: HttpRequest) -> HttpResponse:
    priced = cart.priced(request.session)
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    form = CheckoutForm(request.POST, needs_travel_date=needs_date)
    if not priced:
        messages.error(request, "Your cart is empty.")
        return redirect("checkout:cart")
    if not form.is_valid():
        return render(request, "checkout/cart.html", {"cart": priced, "form": form}, status=400)
    try:
        order = services.place_order(priced, form.cleaned_data["email"], request.user,
                                     form.cleaned_data.get("travel_date"))
    except services.CheckoutError as exc:
        form.add_error(None, str(exc))
        return render(request, "checkout/cart.html", {"cart": priced, "form": form}, status=400)
    _remember(request, order)
    cart.clear(request.session)
    return _to_payment(request, order)


def _to_payment(request: HttpRequest, order: Order) -> HttpResponse:
    try:
        url = services.start_payment(order)
    except (PaymentError, services.CheckoutError) as exc:
        logger.warning("could not start payment for %s: %s", order.number, exc)
        messages.error(request, "We couldn't open the payment page just now. Your order is saved: "
                                "please try again in a moment.")
        return redirect(order.get_absolute_url())
    return redirect(url, permanent=False)


def _remember(request: HttpRequest, order: Order) -> None:
    numbers = request.session.get("orders", [])
    if numbers[:1] != [order.number]:  # no session write when nothing changes
        request.session["orders"] = [order.number, *[n for n in numbers if n != order.number]][:20]


def _order_for(request: HttpRequest, number: str) -> Order:
    """The order, if this visitor may see it (owner, the link's token, or this session)."""
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise Http404
    token = request.GET.get("t", "")
    allowed = (
        (token and hmac.compare_digest(token, order.access_token))
        or (request.user.is_authenticated and order.customer_id == request.user.id)
        or number in request.session.get("orders", [])
    )
    if not allowed:
        raise Http404  # the same answer whether the order exists or not
    return order


@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_for(request, number)
    _remember(request, order)
    if order.status == OrderStatus.PENDING_PAYMENT and not request.GET.get("cancelled"):
        services.confirm_from_success_page(order, request.GET.get("session_id"))
        order.refresh_from_db()
    return render(request, "checkout/order.html", _order_context(order, request))


def _order_context(order: Order, request: HttpRequest) -> dict:
    esims = list(order.esims.select_related("order_line")) if order.status == OrderStatus.COMPLETED else []
    for esim in esims:
        esim.qr = qr_data_uri(esim.lpa_code) if esim.lpa_code else ""
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "esims": esims,
        "cancelled": bool(request.GET.get("cancelled")),
        "waiting": order.status in (OrderStatus.PAID, OrderStatus.FULFILLING),
    }


@require_GET
def order_status(request: HttpRequest, number: str) -> JsonResponse:
    """Polled by the order page until the eSIM is ready."""
    order = _order_for(request, number)
    if order.status == OrderStatus.PENDING_PAYMENT:
        services.confirm_from_success_page(order, request.GET.get("session_id"))
        order.refresh_from_db()
    # The page reloads itself when the status changes; the eSIM is rendered there.
    body = {"status": order.status, "status_label": order.get_status_display()}
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_for(request, number)
    if order.status != OrderStatus.PENDING_PAYMENT:
        messages.info(request, "This order is already paid or closed.")
        return redirect(order.get_absolute_url())
    return _to_payment(request, order)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = gateway().parse_event(request.body, signature)
    except (ValueError, stripe.SignatureVerificationError):
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    outcome = services.handle_stripe_event(event)
    logger.info("stripe event %s %s: %s", event.get("id"), event.get("type"), outcome)
    return JsonResponse({"received": True, "outcome": outcome})
