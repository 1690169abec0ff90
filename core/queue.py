"""Queueing Celery tasks after the current transaction commits, from one place.

Services name tasks instead of importing them, so `services.py` never imports
`tasks.py` (which imports the services): the arrows run one way.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def send(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """`countdown`: run it no sooner than this many seconds from now (ignored in eager mode)."""
    from celery import current_app

    if current_app.conf.task_always_eager:  # send_task ignores eager mode
        current_app.loader.import_default_modules()  # every app's tasks.py, as a worker has them
        current_app.tasks[task_name].apply(args=args)
    else:
        options = {"countdown": countdown} if countdown is not None else {}
        current_app.send_task(task_name, args=args, **options)


def after_commit(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Send `task_name` when the transaction commits (at once outside a transaction)."""
    options = {"countdown": countdown} if countdown is not None else {}
    transaction.on_commit(lambda: send(task_name, *args, **options))


# What every task that sends an email runs with (`@shared_task(name=..., **EMAIL_TASK)`): a mail
# server that is down (OSError) is retried with back-off, and the task is acknowledged only once it
# ran, so a send a killed worker took with it runs again.
EMAIL_TASK: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OSError,),
    "max_retries": 5,
    "retry_backoff": True,
}
