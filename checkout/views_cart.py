from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.security import same_origin_post

from . import cart, selectors
from .forms import CheckoutForm


@require_POST
@same_origin_post
def cart_add(request: HttpRequest) -> HttpResponse:
    try:
        package = cart.add(request.session, request.POST.get("package", ""),
                           request.POST.get("quantity", "1"))
    except cart.CartError as exc:
        messages.error(request, str(exc))
        return redirect(_back_within_the_shop(request))
    days = f"{package.days} day{'s' if package.days != 1 else ''}"
    messages.success(request, f"Added {package.destination.name} {package.data_label}, {days} to your cart.")
    return redirect("checkout:cart")


def _back_within_the_shop(request: HttpRequest) -> str:
    """The page the visitor came from, if it is ours (Referer is whatever the client says)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return "checkout:cart"


@require_http_methods(["GET", "HEAD", "POST"])
def cart_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        package_id = request.POST.get("package", "")
        try:
            if request.POST.get("action") == "remove":
                cart.remove(request.session, package_id)
                messages.success(request, "Removed from your cart.")
            else:
                cart.set_quantity(request.session, package_id, request.POST.get("quantity"))
                messages.success(request, "Cart updated.")
        except cart.CartError as exc:
            messages.error(request, str(exc))
        return redirect("checkout:cart")
    priced = cart.priced(request.session)
    if not priced and not priced.removed and "orders" in request.session:
        # Back from the payment page: the cart became an order; offer to pay that, not an empty cart.
        recent = selectors.recent_unpaid_order(request.session)
        if recent is not None:
            messages.info(request, "Your order is saved and waits for payment.")
            return redirect(recent.get_absolute_url())
    if priced.removed:
        messages.warning(request, "A plan in your cart is no longer sold and was removed.")
    needs_date = any(line.package.travel_date_required for line in priced.lines)
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    form = CheckoutForm(initial=initial, needs_travel_date=needs_date)
    return render(request, "checkout/cart.html", {"cart": priced, "form": form})
