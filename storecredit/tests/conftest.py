from __future__ import annotations

from django.contrib.auth import get_user_model

from checkout.tests.conftest import make_package, package  # noqa: F401 - fixtures for these tests
from giftcards.tests.conftest import no_queue  # noqa: F401 - queued tasks recorded, not sent
from storecredit.ledger import ledger_sum
from storecredit.models import CreditAccount
from storecredit.services import staff


def customer(name: str = "ann", email: str | None = None):
    return get_user_model().objects.create_user(name, email or f"{name}@example.com", f"pw-{name}-12345")


def grant(user, cents: int, **kwargs):
    """Credit given by staff (a grant, expiring as any)."""
    return staff.adjust(user, cents, reason="test grant", actor="test", **kwargs)


def balanced(user) -> int:
    """The account's balance, checked against its ledger and against what is left of its grants."""
    account = CreditAccount.objects.get(user=user)
    left = sum(account.entries.values_list("remaining_cents", flat=True))
    assert account.balance_cents == ledger_sum(account) == left, (
        account.balance_cents,
        ledger_sum(account),
        left,
    )
    return account.balance_cents


__all__ = ["balanced", "customer", "grant", "make_package"]
