from celery import shared_task

from .rates import refresh_exchange_rates
from .services import sync_catalog


@shared_task(name="catalog.sync_catalog", acks_late=True, ignore_result=True)
def sync_catalog_task(trigger: str = "schedule") -> None:
    sync_catalog(trigger=trigger)


@shared_task(name="catalog.refresh_exchange_rates", ignore_result=True)
def refresh_exchange_rates_task() -> None:
    # No retry: beat asks again within EXCHANGE_RATE_REFRESH_SECONDS, well inside the rates' max age.
    refresh_exchange_rates()
