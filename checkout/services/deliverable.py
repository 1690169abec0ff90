"""Sell only what can be delivered.

A top-up is for an eSIM upstream says is alive (not revoked, not refunded by the shop, not expired)
and that takes top-ups, with a package upstream accepts for it (data on an unlimited plan only when
upstream lists it for that eSIM). The eSIM pages and the cart judge from the
eSIM's row (`Esim.topup_refusal`); placing the order and opening its payment ask upstream too,
right before any money is taken, and every line's package must still be sold. A refusal names
the line and says why; nothing is charged.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

import roamify
from catalog.models import Package
from esims import selectors as esim_selectors
from esims import services as esim_services
from esims.models import Esim

from .. import selectors
from ..cart import line_name
from ..models import LineKind, Order
from .order_state import CheckoutError


class Undeliverable(CheckoutError):
    """A line that can no longer be delivered; the message says which and why."""


def refused(name: str, reason: str) -> Undeliverable:
    # Translators: %(name)s names a cart line ("The 1 GB, 7-day top-up for your eSIM …1234"), %(reason)s
    # says why ("it is no longer sold").
    return Undeliverable(
        _("%(name)s can no longer be delivered: %(reason)s. Nothing was charged.")
        % {"name": name, "reason": reason}
    )


def check_topup(esim: Esim, package: Package) -> None:
    """Ask upstream, now, whether this top-up can be delivered; Undeliverable (or CheckoutError when
    upstream can't say) if not. The eSIM's row learns what upstream said."""
    name = line_name(package, esim)
    if esim.topup_refusal:  # dead as far as the shop knows already: no need to ask
        raise refused(name, esim.topup_refusal)
    try:
        esim_services.confirm_status(esim)
        if esim.topup_refusal:
            raise refused(name, esim.topup_refusal)
        accepted = esim_selectors.topup_package_ids(esim, max_age=settings.ESIM_TOPUP_CHECK_SECONDS)
    except roamify.RoamifyError:
        raise CheckoutError(
            _(
                "We couldn't check the top-ups of your eSIM just now. "
                "Nothing was charged: please try again in a minute."
            )
        ) from None
    if package.package_id not in accepted:
        if not package.is_unlimited and selectors.esim_is_unlimited(esim):
            # The case that misled before: data added to an unlimited plan grows only its days.
            raise Undeliverable(
                _(
                    "The %(data)s top-up doesn't fit your eSIM %(iccid)s: its data is already unlimited, "
                    "and the network adds no data to it. Nothing was charged. To add days, pick an "
                    "unlimited top-up from the eSIM's page."
                )
                % {"data": package.data_label, "iccid": esim.iccid_masked}
            )
        raise Undeliverable(
            _("The %(data)s top-up doesn't fit your eSIM %(iccid)s. Please pick one from the eSIM's page.")
            % {"data": package.data_label, "iccid": esim.iccid_masked}
        )


def check_order(order: Order) -> None:
    """Right before an order's payment opens: each of its lines can still be delivered."""
    lines = list(order.lines.exclude(kind=LineKind.GIFTCARD).select_related("package__destination", "esim"))
    ids = [line.package_id for line in lines]
    sold = set(Package.objects.active().filter(pk__in=ids).values_list("pk", flat=True))
    for line in lines:
        if line.package_id not in sold:
            raise refused(line_name(line.package, line.esim), _("it is no longer sold"))
        if line.kind == LineKind.TOPUP:
            check_topup(line.esim, line.package)
