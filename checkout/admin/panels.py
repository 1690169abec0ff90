"""Panels other parts of the shop add to a customer's page: (title, fn(customer) -> html).

Gift cards plug in here (checkout may import giftcards; giftcards may not import checkout).
"""

from __future__ import annotations

from collections.abc import Callable

from ..models import Customer

CustomerPanel = Callable[[Customer], str]
CUSTOMER_PANELS: list[tuple[str, CustomerPanel]] = []


def register_customer_panel(title: str, panel: CustomerPanel) -> None:
    CUSTOMER_PANELS.append((title, panel))
