"""Celery tasks of gift cards. They only call services; retries live here."""

from __future__ import annotations

from celery import shared_task

from core.queue import EMAIL_TASK

from . import services


@shared_task(name="giftcards.deliver", **EMAIL_TASK)
def deliver(card_id: int) -> bool:
    return services.deliver(card_id)


@shared_task(name="giftcards.send_due", acks_late=True)
def send_due() -> int:
    """Beat: cards whose send date has come (survives restarts: the database says what is due)."""
    return services.send_due()


@shared_task(name="giftcards.expire_cards", acks_late=True)
def expire_cards() -> int:
    return services.expire_cards()


@shared_task(name="giftcards.retry_revoke_refunds", acks_late=True)
def retry_revoke_refunds() -> int:
    return services.retry_revoke_refunds()
