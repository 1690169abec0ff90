from celery import shared_task

from .services import sync_catalog


@shared_task(name="catalog.sync_catalog", acks_late=True, ignore_result=True)
def sync_catalog_task(trigger: str = "schedule") -> None:
    sync_catalog(trigger=trigger)
