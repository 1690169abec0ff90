"""The customer's pages: eSIMs with usage and top-ups, orders and receipts, settings.

Every page of the account area is for its signed-in owner only: another customer's id
gets 404, an anonymous visitor is sent to sign in. The two signed-link pages (top-ups
from the low-data email, the shared install link) work without signing in.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from checkout import cart
from checkout import selectors as checkout_selectors
from checkout import services as checkout
from checkout.services import saved_cards
from core.roamify_client import UpstreamError
from esims import links
from esims import selectors as esims
from esims import services as esim_services
from esims.models import NO_TOP_UPS
from esims.qr import qr_data_uri
from esims.usage import chart

from . import selectors, services, topups
from .forms import DeleteAccountForm

logger = logging.getLogger(__name__)

# Referrer same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with a
# form and CSRF refuses it. A link's token still never leaves the site in a Referer.
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}


def _private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE.items():
        response.headers[name] = value
    return response


@require_safe
@login_required
def esim_list(request: HttpRequest) -> HttpResponse:
    cards = selectors.esim_cards(request.user)
    return render(request, "accounts/esim_list.html", {"cards": cards, "section": "esims"})


def _no_topups(esim, *, buying: bool) -> str:
    """Why no top-up is sold for this eSIM (revoked, refunded, a plan without top-ups), in one
    whole sentence per reason; a plan without top-ups also says what to do instead (`buying`: the
    customer just tried to buy one)."""
    key = esim.topup_refusal_key
    if key == NO_TOP_UPS:
        if buying:
            return _("This eSIM can't be topped up. Please choose a new eSIM instead.")
        return _("This eSIM can't be topped up. When its data runs out, buy a new eSIM.")
    sentences = {
        "refunded_cancelled": _("This eSIM can't be topped up: it was refunded and cancelled."),
        "refunded": _("This eSIM can't be topped up: it was refunded."),
        "revoked": _("This eSIM can't be topped up: it was revoked by the network."),
        "expired": _("This eSIM can't be topped up: it has expired. Please choose a new eSIM instead."),
        "not_ready": _("This eSIM can't be topped up: it isn't ready yet."),
    }
    return sentences[key]


def _offers(esim) -> dict:
    """Top-ups on sale for the eSIM, grouped for choosing (`topups.group_offers`), or why there
    are none (a dead or expired eSIM lists none)."""
    if esim.topup_refusal_key:
        return {"offers": [], "offer_groups": [], "offers_note": _no_topups(esim, buying=False)}
    try:
        packages = checkout.topup_offers(esim)
    except UpstreamError as exc:
        logger.warning("top-ups of eSIM %s unavailable: %s", esim.pk, exc)
        note = _("We couldn't load top-ups just now. Please try again in a minute.")
        return {"offers": [], "offer_groups": [], "offers_note": note}
    if not packages:
        note = _("There are no top-ups for this eSIM right now.")
        return {"offers": [], "offer_groups": [], "offers_note": note}
    # The plan is usually among its own top-ups (no query then); whether the eSIM is unlimited now
    # (an unlimited top-up makes it so) is upstream's usage figure, read from the cache already.
    plan = next((p for p in packages if p.package_id == esim.package_id_upstream), None)
    plan = plan or checkout_selectors.esim_plan(esim)
    snapshot = esims.usage_of(esim)
    unlimited = bool(plan and plan.is_unlimited) or bool(snapshot and snapshot.unlimited)
    groups = topups.group_offers(packages, plan=plan, unlimited_esim=unlimited)
    offers = [offer for group in groups for offer in group.offers]
    return {"offers": offers, "offer_groups": groups, "offers_note": ""}


def _usage_context(esim, *, fetch_missing: bool = True) -> dict:
    snapshot = esims.usage_of(esim, fetch_missing=fetch_missing)
    today = timezone.localdate()
    return {
        **selectors.usage_figures(esim, snapshot),
        "chart": chart(snapshot, today) if snapshot and snapshot.supported else None,
        "projection": snapshot.projection(today) if snapshot and snapshot.supported else None,
        "validity": selectors.validity(esim, snapshot),
        "status": selectors.status_label(esim, snapshot),
        "status_key": selectors.status_key(esim, snapshot),
    }


def _one_tap(request: HttpRequest) -> dict:
    """What the one-tap form of each top-up needs: the owner's latest saved card (None: no form),
    a token of this page's (a double tap buys once) and the page to come back to."""
    cards = saved_cards.cards_of(request.user)
    return {
        "saved_card": cards[0] if cards else None,
        "one_tap_key": secrets.token_urlsafe(16),
        "one_tap_next": request.get_full_path(),
    }


def _qr(esim) -> str:
    """The QR code PNG as a data URI (drawn once for the email and every page: esims.qr)."""
    return qr_data_uri(esim.lpa_code) if esim.lpa_code else ""


@require_safe
@login_required
def esim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    esim = selectors.customer_esim(request.user, pk)
    context = {
        "esim": esim,
        "section": "esims",
        "destination": selectors.destination(esim),
        "qr": _qr(esim),
        "history": esims.history_of(esim),
        **_offers(esim),
        **_usage_context(esim),
        **_one_tap(request),
    }
    return _private(render(request, "accounts/esim_detail.html", context))


# The page's script asks every few seconds while its figures are old; more than this a minute from
# one customer for one eSIM is not that script.
USAGE_POLLS_PER_MINUTE = 30
USAGE_PARTS = {"bar": "accounts/_usage_bar.html", "section": "accounts/_usage_section.html"}


@require_safe
@login_required
def esim_usage(request: HttpRequest, pk: int) -> HttpResponse:
    """The eSIM's usage figures as its page shows them, for static/js/usage.js to put in place.

    Cheap: the cache only. Figures older than the cache's age queue one background refresh (the
    task's lock keeps it to one per eSIM) and are answered as they are, with `current: false`.
    """
    esim = selectors.customer_esim(request.user, pk)
    key = f"accounts:usage-polls:{request.user.pk}:{esim.pk}"
    cache.add(key, 0, 60)
    try:
        polls = cache.incr(key)
    except ValueError:  # the minute ended between the two calls
        polls = 1
    if polls > USAGE_POLLS_PER_MINUTE:
        return _private(
            JsonResponse({"error": "too many requests"}, status=429, headers={"Retry-After": "60"})
        )
    context = {"esim": esim, **_usage_context(esim, fetch_missing=False)}
    snapshot = context["usage"]
    template = USAGE_PARTS.get(request.GET.get("part", ""), USAGE_PARTS["bar"])
    body = {
        "current": context["usage_current"],
        "current_for": context["usage_current_for"],  # seconds: when to ask again
        "read_at": snapshot.fetched_at.isoformat() if snapshot and snapshot.supported else None,
        "html": render_to_string(template, context, request=request) if snapshot else "",
    }
    return _private(JsonResponse(body))


@require_POST
@login_required
def esim_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    esim = selectors.customer_esim(request.user, pk)
    if not esim.with_usage_check or not esim.iccid:
        messages.info(request, _("This eSIM's network doesn't report data use to us."))
    else:
        try:
            if esim_services.refresh_now(esim):
                messages.success(request, _("Usage updated just now."))
            else:
                messages.info(
                    request, _("Usage was updated less than a minute ago. Please try again shortly.")
                )
        except UpstreamError:
            messages.error(
                request,
                _("We couldn't reach the network just now. The figures below may be a few minutes old."),
            )
    return redirect(reverse("accounts:esim_detail", args=[esim.pk]) + "#usage")


@require_POST
@login_required
def esim_topup(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a top-up of the customer's eSIM in the cart, if upstream accepts it for this eSIM."""
    esim = selectors.customer_esim(request.user, pk)
    back = reverse("accounts:esim_detail", args=[esim.pk]) + "#top-ups"
    if esim.topup_refusal_key:
        messages.error(request, _no_topups(esim, buying=True))
        return redirect(back)
    wanted = request.POST.get("package", "")[:160]
    try:
        offers = checkout.topup_offers(esim, max_age=settings.ESIM_TOPUP_CHECK_SECONDS)
    except UpstreamError:
        messages.error(
            request, _("We couldn't check the top-ups of this eSIM just now. Please try again in a minute.")
        )
        return redirect(back)
    package = next((p for p in offers if p.package_id == wanted), None)
    if package is None:
        messages.error(
            request, _("That top-up doesn't fit this eSIM. Please pick one of the top-ups listed here.")
        )
        return redirect(back)
    try:
        cart.add_topup(request.session, esim, package)
    except cart.CartError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "Added a %(data)s, %(days)s-day top-up for your eSIM %(iccid)s to your cart.",
            "Added a %(data)s, %(days)s-day top-up for your eSIM %(iccid)s to your cart.",
            package.days,
        )
        % {"data": package.data_label, "days": package.days, "iccid": esim.iccid_masked},
    )
    return redirect("checkout:cart_detail")


@require_POST
@login_required
def esim_share(request: HttpRequest, pk: int) -> HttpResponse:
    esim = selectors.customer_esim(request.user, pk)
    if not esim.lpa_code:
        messages.error(request, _("This eSIM has no install details yet."))
        return redirect("accounts:esim_detail", pk=esim.pk)
    url = request.build_absolute_uri(
        reverse("accounts:shared_install", args=[links.make_token(esim, links.INSTALL)])
    )
    expires = timezone.now() + timezone.timedelta(seconds=links.max_age_seconds(links.INSTALL))
    return _private(
        render(
            request,
            "accounts/esim_share.html",
            {"esim": esim, "url": url, "expires": expires, "section": "esims"},
        )
    )


@require_safe
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = list(selectors.customer_orders(request.user))
    return render(request, "accounts/order_list.html", {"orders": orders, "section": "orders"})


@require_safe
@login_required
def order_open(request: HttpRequest, number: str) -> HttpResponse:
    """Where "Track your data and top up" lands after the sign-in code: the order's eSIM page (or
    the list it shows in), decided now, not when the order page was drawn (maybe before its eSIM)."""
    return redirect(selectors.order_landing(selectors.customer_order(request.user, number)))


@require_safe
@login_required
def order_receipt(request: HttpRequest, number: str) -> HttpResponse:
    order = selectors.customer_order(request.user, number)
    payments = [p for p in order.payments.all() if p.status in p.CAPTURED_STATES]
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "payments": payments,
        "refunded_cents": sum(p.refunded_cents for p in payments),
        "tax": selectors.tax_included(order.total_cents),
        "section": "orders",
        "SHOP_ADDRESS": settings.SHOP_ADDRESS,
        "SHOP_TAX_ID": settings.SHOP_TAX_ID,
    }
    return _private(render(request, "accounts/receipt.html", context))


@require_safe
@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    offers = checkout.marketing.has_consent(request.user.email)
    return render(request, "accounts/settings.html", {"section": "settings", "offers": offers})


@require_POST
@login_required
def account_offers(request: HttpRequest) -> HttpResponse:
    """The settings' "tell me about offers" box: ticked gives consent, unticked withdraws it."""
    wanted = request.POST.get("offers") == "1"
    checkout.marketing.set_from_account(request.user.email, wanted)
    if wanted:
        messages.success(request, _("We'll tell you about offers and deals. You can unsubscribe any time."))
    else:
        messages.success(request, _("We won't send you emails about offers."))
    return redirect("accounts:account_settings")


@require_http_methods(["GET", "POST"])
@login_required
@never_cache
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.delete_account(user)
        messages.success(
            request,
            _("Your account is deleted. Your past orders stay on our books, no longer linked to an account."),
        )
        return redirect("/")
    return render(
        request,
        "accounts/delete.html",
        {"form": form, "section": "settings"},
        status=400 if request.method == "POST" else 200,
    )


# --- Signed links: no sign-in -------------------------------------------------------------------


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return _private(render(request, "accounts/link_refused.html", {"reason": reason}, status=404))


@require_safe
def signed_topups(request: HttpRequest, token: str) -> HttpResponse:
    """The low-data email's link: the eSIM's usage and top-ups. Buying needs its owner signed in."""
    try:
        esim = links.read_token(token, links.TOPUP)
    except links.LinkError as exc:
        return _refused(request, str(exc))
    owner = request.user.is_authenticated and esim.customer_id == request.user.id
    next_url = reverse("accounts:esim_detail", args=[esim.pk]) + "#top-ups"
    context = {
        "esim": esim,
        **_offers(esim),
        "owner": owner,
        "login_url": f"{reverse('account_login')}?next={next_url}",
        "signup_url": f"{reverse('account_signup')}?next={next_url}",
        "has_account": esim.customer_id is not None,
        **_usage_context(esim),
        **(_one_tap(request) if owner else {}),
    }
    return _private(render(request, "accounts/signed_topups.html", context))


@require_safe
def shared_install(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's shared install link: install details only (no ICCID in full, no email)."""
    try:
        esim = links.read_token(token, links.INSTALL)
    except links.LinkError as exc:
        return _refused(request, str(exc))
    if not esim.lpa_code or esim.status in ("REVOKED", "EXPIRED"):
        return _refused(request, _("This eSIM can no longer be installed."))
    return _private(render(request, "accounts/shared_install.html", {"esim": esim, "qr": _qr(esim)}))
