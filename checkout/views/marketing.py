"""The marketing email's links: back to the cart, and unsubscribe (the page and RFC 8058's one-click)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from .. import cart, services
from ..models import OrderStatus
from ..services import marketing

FROM_EMAIL_KEY = "cart_from_email"  # the orders this session put back through an email's link


def _refused(request: HttpRequest, template: str, reason: str) -> HttpResponse:
    return render(request, template, {"refused": reason}, status=404)


@require_safe
@never_cache
def cart_from_email(request: HttpRequest, token: str) -> HttpResponse:
    """The abandoned-cart email's link: that order's lines in this visitor's cart, then the cart. A
    second visit adds nothing twice; a plan no longer sold is left out by the cart, which says so."""
    try:
        order = marketing.order_of_cart_link(token)
    except marketing.LinkError as exc:
        return _refused(request, "checkout/cart_link_refused.html", str(exc))
    done = request.session.get(FROM_EMAIL_KEY, [])
    if order.number in done:
        return redirect("checkout:cart_detail")
    if order.status == OrderStatus.PENDING_PAYMENT:
        # Its card page closes, so the old order can't be paid beside the new one.
        services.reopen_for_cart(order.pk)
        order.refresh_from_db()
    if order.status != OrderStatus.CANCELLED:
        messages.info(request, _("That order is already paid or being handled: nothing to put back."))
        return redirect("checkout:cart_detail")
    cart.restore(request.session, order, gift_cards_applied=False)
    request.session[FROM_EMAIL_KEY] = [order.number, *done][:20]
    messages.info(request, _("Your cart is back as you left it. Prices are checked again before you pay."))
    return redirect("checkout:cart_detail")


@csrf_exempt  # RFC 8058: a mail app's one-click POST has no cookie and no CSRF token; the link is signed
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (mail scanners follow links: a GET changes nothing); POST unsubscribes."""
    try:
        consent = (
            marketing.unsubscribe(token)
            if request.method == "POST"
            else marketing.consent_of_unsubscribe_link(token)
        )
    except marketing.LinkError as exc:
        return _refused(request, "checkout/unsubscribe.html", str(exc))
    context = {"consent": consent, "done": request.method == "POST"}
    return render(request, "checkout/unsubscribe.html", context)
