"""Admin: an account's page with its ledger; a staff adjustment needs a reason, never takes the
balance below zero, and is written to the ledger and the audit log."""

from __future__ import annotations

import pytest

from core.models import AuditEntry
from storecredit.models import CreditAccount, Kind

from .conftest import balanced, customer, grant

pytestmark = pytest.mark.django_db


def test_staff_adjust_with_a_reason_and_it_is_audited(staff_client):
    ann = customer()
    grant(ann, 500)
    account = CreditAccount.objects.get(user=ann)
    page = staff_client.get(f"/admin/storecredit/creditaccount/{account.pk}/change/").content.decode()
    assert "Adjust balance" in page and "Ledger" in page
    url = f"/admin/storecredit/creditaccount/{account.pk}/adjust/"
    assert staff_client.post(url, {"amount_cents": "5.00", "reason": ""}).status_code == 200  # no reason
    refused = staff_client.post(url, {"amount_cents": "-9.00", "reason": "typo"})
    assert "too low" in refused.content.decode()
    assert balanced(ann) == 500
    response = staff_client.post(url, {"amount_cents": "2.50", "reason": "Sorry for the delay"})
    assert response.status_code == 302
    assert balanced(ann) == 750
    entry = account.entries.last()
    assert (entry.kind, entry.reason, entry.actor) == (Kind.ADJUST, "Sorry for the delay", "boss@example.com")
    audit = AuditEntry.objects.get(action="storecredit.adjust", actor="boss@example.com")
    assert audit.after == {"balance_cents": 750} and audit.note == "Sorry for the delay"
