"""Celery tasks of store credit. They only call services."""

from __future__ import annotations

from celery import shared_task

from .services import expiry


@shared_task(name="storecredit.expire_credit", acks_late=True)
def expire_credit() -> int:
    """Daily: what is left of credit past its expiry leaves the accounts (beat: storecredit-expire)."""
    return expiry.expire_due()
