"""Celery tasks of eSIMs. They only call services."""

from __future__ import annotations

from celery import shared_task

from core.queue import EMAIL_TASK

from . import services


@shared_task(
    name="esims.process_roamify_event",
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
)
def process_roamify_event(event_id: int) -> str:
    return services.process_event(event_id)


@shared_task(name="esims.refresh_upstream", acks_late=True, ignore_result=True)
def refresh_upstream(esim_id: int, kind: str) -> None:
    services.refresh_in_background(esim_id, kind)


@shared_task(name="esims.send_low_data_email", **EMAIL_TASK)
def send_low_data_email(alert_id: int) -> bool:
    return services.send_low_data_email(alert_id)


@shared_task(name="esims.send_low_balance_alert", **EMAIL_TASK)
def send_low_balance_alert() -> bool:
    return services.send_low_balance_alert()


@shared_task(name="esims.check_partner_balance", acks_late=True)
def check_partner_balance() -> str:
    return services.check_balance()
