from __future__ import annotations

from unittest import mock

import pytest

from checkout.tests.conftest import make_package, package  # noqa: F401 - fixtures for these tests
from giftcards import codes, services
from giftcards.ledger import ledger_sum
from giftcards.models import GiftCard


def new_card(amount_cents: int = 5000, **kwargs) -> tuple[GiftCard, str]:
    """A card with a code, issued by staff (no recipient: the code is returned)."""
    card, code = services.issue(amount_cents, actor="test", **kwargs)
    assert code is not None
    return card, code


def balanced(card: GiftCard) -> int:
    """The card's balance, checked against its ledger."""
    card.refresh_from_db()
    assert card.balance_cents == ledger_sum(card), (card.balance_cents, ledger_sum(card))
    return card.balance_cents


@pytest.fixture
def no_queue():
    """Queued tasks are recorded, not sent (tests that need a worker use the celery_worker fixture)."""
    with mock.patch("core.queue.send") as send:
        yield send


@pytest.fixture(autouse=True)
def _fresh_limits(clear_cache):
    """Each test starts with no guesses counted."""


__all__ = ["balanced", "codes", "make_package", "new_card"]
