"""Expiry: what is left of a grant past its day leaves as an `expire` entry, once; the oldest grant
is spent first, so spent credit never expires; a hold released after the day expires next run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.services import delete_account
from storecredit.ledger import locked, post
from storecredit.models import CreditAccount, Kind
from storecredit.services import expiry
from storecredit.tasks import expire_credit

from .conftest import balanced, customer, grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def test_what_is_left_of_a_grant_expires_on_its_day_once():
    ann = customer()
    now = timezone.now()
    old = grant(ann, 500, expires_at=now - dt.timedelta(hours=1))
    grant(ann, 300, expires_at=now + dt.timedelta(days=30))
    with transaction.atomic():
        post(locked(ann.pk), Kind.ADJUST, -200)  # spends the old grant first
    assert expiry.expire_due() == 1
    entries = CreditAccount.objects.get(user=ann).entries
    expired = entries.get(kind=Kind.EXPIRE)
    assert expired.amount_cents == -300 and expired.drawn == [[old.pk, 300]]
    assert balanced(ann) == 300
    assert expire_credit() == 0  # the daily task: nothing more is due
    assert entries.filter(kind=Kind.EXPIRE).count() == 1


def test_a_hold_released_after_the_day_expires_next_run():
    ann = customer()
    grant_entry = grant(ann, 500, expires_at=timezone.now() + dt.timedelta(days=1))
    with transaction.atomic():
        hold = post(locked(ann.pk), Kind.RESERVE, -500)
    later = timezone.now() + dt.timedelta(days=2)
    assert expiry.expire_due(later) == 0  # all of it is held for a checkout
    with transaction.atomic():
        post(locked(ann.pk), Kind.RELEASE, 500, draw=hold.drawn)
    assert expiry.expire_due(later) == 1
    grant_entry.refresh_from_db()
    assert grant_entry.remaining_cents == 0 and balanced(ann) == 0


def test_grants_expire_after_the_setting_and_the_task_runs_daily():
    ann = customer()
    entry = grant(ann, 100)
    lasts = dt.timedelta(days=settings.STORE_CREDIT_EXPIRY_DAYS)
    assert settings.STORE_CREDIT_EXPIRY_DAYS == 365
    assert abs(entry.expires_at - entry.created_at - lasts) < dt.timedelta(seconds=5)
    schedule = settings.CELERY_BEAT_SCHEDULE["storecredit-expire"]
    assert schedule == {"task": "storecredit.expire_credit", "schedule": 24 * 3600}


def test_a_deleted_account_forfeits_its_credit_and_the_ledger_stays():
    ann = customer()
    grant(ann, 700)
    account_id = CreditAccount.objects.get(user=ann).pk
    delete_account(ann)
    account = CreditAccount.objects.get(pk=account_id)
    assert account.user_id is None and account.balance_cents == 0
    assert account.entries.last().kind == Kind.EXPIRE and account.entries.last().reason == "Account deleted"
    assert expiry.expire_due() == 0
