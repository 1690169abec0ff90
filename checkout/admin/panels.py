"""Panels on a customer's page: (title, fn(customer) -> html), shown in the order registered.

The shop's own: gift cards bought (a guest's purchases too, by the email of the order that bought
them), gift cards spent on their orders, and the refunds of their orders. Checkout may import
giftcards (giftcards may not import checkout: its selectors take the customer's orders as a query).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy

from core.money import format_money
from giftcards import selectors as giftcard_selectors
from payments.providers import PaymentError, get_provider

from .. import selectors
from ..models import Customer
from .display import when

CustomerPanel = Callable[[Customer], str]
CUSTOMER_PANELS: list[tuple[str, CustomerPanel]] = []

LIMIT = 50  # rows per panel; the full lists are a search away in their own admin pages


def register_customer_panel(title: str, panel: CustomerPanel) -> None:
    CUSTOMER_PANELS.append((title, panel))


def _table(headers: Iterable[str], rows: list[tuple], empty: str) -> SafeString:
    if not rows:
        return format_html("<p>{}</p>", empty)
    width = len(rows[0])
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th scope='col'>{}</th>", ((h,) for h in headers)),
        format_html_join("", "<tr>" + "<td>{}</td>" * width + "</tr>", rows),
    )


def _order_link(order) -> SafeString:
    url = reverse("admin:checkout_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


def _card_link(card) -> SafeString:
    url = reverse("admin:giftcards_giftcard_change", args=[card.pk])
    return format_html('<a href="{}">{}</a>', url, card)


def _provider_name(identifier: str) -> str:
    try:
        return get_provider(identifier).verbose_name or identifier
    except PaymentError:  # a provider since removed: its name is all there is
        return identifier


def gift_cards_bought(customer: Customer) -> str:
    cards = giftcard_selectors.cards_bought(selectors.orders_of_customer(customer), customer.user_id)[:LIMIT]
    rows = [
        (
            _card_link(card),
            _order_link(card.order) if card.order_id else gettext("issued by staff"),
            format_money(card.initial_value_cents, card.currency),
            format_money(card.balance_cents, card.currency),
            card.get_status_display(),
            card.recipient_email or "—",
            when(card.created_at),
        )
        for card in cards
    ]
    headers = (
        gettext("Card"),
        gettext("Order"),
        gettext("Value"),
        gettext("Balance"),
        gettext("Status"),
        gettext("For"),
        gettext("Bought"),
    )
    return _table(headers, rows, gettext("No gift cards bought."))


def gift_cards_spent(customer: Customer) -> str:
    entries = giftcard_selectors.cards_spent(selectors.orders_of_customer(customer))[:LIMIT]
    rows = [
        (
            _card_link(entry.card),
            _order_link(entry.payment.order),
            format_money(entry.payment.amount_cents, entry.payment.currency),
            format_money(entry.payment.refunded_cents, entry.payment.currency)
            if entry.payment.refunded_cents
            else "—",
            when(entry.created_at),
        )
        for entry in entries
    ]
    headers = (
        gettext("Card"),
        gettext("Order"),
        gettext("Paid"),
        gettext("Refunded to the card"),
        gettext("When"),
    )
    return _table(headers, rows, gettext("No gift cards spent."))


def refunds(customer: Customer) -> str:
    rows = [
        (
            when(refund.created_at),
            _order_link(refund.payment.order),
            format_money(refund.amount_cents, refund.payment.currency),
            _provider_name(refund.payment.provider),
            refund.reason or "—",
            refund.actor,
        )
        for refund in selectors.refunds_of(selectors.orders_of_customer(customer))[:LIMIT]
    ]
    headers = (
        gettext("When"),
        gettext("Order"),
        gettext("Amount"),
        gettext("Back to"),
        gettext("Reason"),
        gettext("By"),
    )
    return _table(headers, rows, gettext("No refunds."))


register_customer_panel(gettext_lazy("Gift cards bought"), gift_cards_bought)
register_customer_panel(gettext_lazy("Gift cards spent"), gift_cards_spent)
register_customer_panel(gettext_lazy("Refunds"), refunds)
