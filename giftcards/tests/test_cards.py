"""Issuing, codes, the ledger and what staff change: every change keeps balance == ledger."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from core.models import AuditEntry
from giftcards import codes, services
from giftcards.events import GiftCardAction
from giftcards.models import GiftCard, Kind, Status

from .conftest import balanced, new_card

pytestmark = pytest.mark.django_db


def test_codes_are_long_random_grouped_and_without_look_alikes():
    made = {codes.new_code() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){4}", code)
    assert len(codes.ALPHABET) == 32 and not set("01IO") & set(codes.ALPHABET)
    assert codes.LENGTH * 5 >= 80  # bits
    code = made.pop()
    # Typed loosely: lower case, spaces, no dashes, all the same code.
    assert codes.normalize(code.lower().replace("-", " ")) == code.replace("-", "")
    for bad in ("", "ABCD", code + "X", code.replace(code[0], "0"), None, 12, "x" * 1000):
        assert codes.normalize(bad) is None


def test_a_code_is_stored_only_as_a_keyed_hash_and_its_last_four(settings):
    card, code = new_card(2500)
    raw = code.replace("-", "")
    assert card.last_characters == raw[-4:]
    assert card.code_hash != raw and len(card.code_hash) == 64
    assert not GiftCard.objects.filter(code_hash__contains=raw[:8]).exists()
    assert raw not in str(GiftCard.objects.filter(pk=card.pk).values().get())
    # The hash is keyed: another key, another hash (the code of this card no longer matches).
    settings.GIFTCARD_CODE_KEY = "another-key"
    assert codes.code_hash(raw) != card.code_hash


def test_issue_writes_the_ledger():
    card, _ = new_card(5000, note="Goodwill")
    assert balanced(card) == 5000
    assert list(card.transactions.values_list("kind", "amount_cents")) == [(Kind.ISSUE, 5000)]
    assert card.status == Status.ACTIVE


def test_adjust_up_and_down_with_a_reason_never_below_zero():
    card, _ = new_card(1000)
    services.adjust(card.pk, 250, reason="Goodwill", actor="staff ann")
    services.adjust(card.pk, -1250, reason="Correction", actor="staff ann")
    assert balanced(card) == 0
    with pytest.raises(services.FieldError):
        services.adjust(card.pk, -1, reason="Too much", actor="staff ann")
    with pytest.raises(services.FieldError):
        services.adjust(card.pk, 100, reason="  ", actor="staff ann")
    assert balanced(card) == 0
    assert card.transactions.filter(kind=Kind.ADJUST).count() == 2


def test_disable_enable_and_update():
    card, _ = new_card()
    services.disable(card.pk, actor="t")
    card.refresh_from_db()
    assert card.status == Status.DISABLED and card.disabled_at
    services.enable(card.pk, actor="t")
    card.refresh_from_db()
    assert card.status == Status.ACTIVE and card.disabled_at is None
    later = timezone.localdate() + dt.timedelta(days=30)
    services.update(card.pk, actor="t", expires_on=later, note="n", template_suffix="city")
    card.refresh_from_db()
    assert (card.expires_on, card.note, card.template_suffix) == (later, "n", "city")
    with pytest.raises(services.FieldError):
        services.update(card.pk, actor="t", expires_on=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(services.FieldError):
        services.update(card.pk, actor="t", balance_cents=1)
    assert balanced(card) == 5000


def test_daily_job_expires_cards_with_an_expire_entry():
    card, _ = new_card(3000)
    GiftCard.objects.filter(pk=card.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    fresh, _ = new_card(3000, expires_on=timezone.localdate())
    assert services.expire_cards() == 1
    assert balanced(card) == 0
    card.refresh_from_db()
    assert card.status == Status.EXPIRED and card.expired_at
    assert card.transactions.last().kind == Kind.EXPIRE
    assert services.expire_cards() == 0  # nothing more to do
    assert balanced(fresh) == 3000


def test_every_audit_action_the_services_write_is_in_the_vocabulary(django_user_model, mailoutbox, no_queue):
    staff = django_user_model.objects.create_user("boss", "boss@example.com", is_staff=True)
    card, _ = services.issue(2000, actor="staff boss", issued_by=staff, recipient_email="ann@example.com")
    services.update(card.pk, actor="staff boss", note="Apology")
    services.disable(card.pk, actor="staff boss")
    services.enable(card.pk, actor="staff boss")
    services.deliver(card.pk, force=True, actor="staff boss")
    services.adjust(card.pk, -500, reason="Correction", actor="staff boss")
    services.revoke(card.pk, actor="staff boss", reason="Fraud")
    written = list(AuditEntry.objects.values_list("action", flat=True))
    # Every name written is one of the vocabulary, and each of the vocabulary is written by some action.
    assert sorted(written) == sorted(GiftCardAction.values)


@pytest.mark.parametrize(
    "cents, ok",
    [
        (1500, True),
        (2500, True),
        (1000, True),
        (50000, True),
        (1234, False),
        (999, False),
        (50100, False),
        (0, False),
        (-500, False),
    ],
)
def test_purchase_amounts_are_denominations_or_within_limits_on_the_step(cents, ok):
    if ok:
        assert services.clean_purchase_amount(cents) == cents
    else:
        with pytest.raises(services.FieldError) as err:
            services.clean_purchase_amount(cents)
        assert "$" in err.value.message
