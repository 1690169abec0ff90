"""The project package, wiring only: settings, URLs, the Celery app, /healthz."""

from .celery import app as celery_app

__all__ = ("celery_app",)
