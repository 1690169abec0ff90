"""The project package: settings, URLs, the Celery app, health check, base views."""

from .celery import app as celery_app

__all__ = ("celery_app",)
