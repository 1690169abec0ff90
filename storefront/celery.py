import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")

app = Celery("storefront")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _redbeat_settings() -> dict:
    """settings.REDBEAT, under the names RedBeat reads (redbeat_*): as CELERY_REDBEAT_* RedBeat
    would not see them as set, and would use the broker's transport options instead of ours."""
    from django.conf import settings

    return getattr(settings, "REDBEAT", {})


app.add_defaults(_redbeat_settings)


@signals.beat_init.connect
def _say_how_beat_shares_the_schedule(sender=None, **_kwargs) -> None:
    """Logged at start, before RedBeat waits for its lock: a waiting beat would say nothing."""
    import logging

    log = logging.getLogger("celery.beat")
    scheduler = sender.scheduler
    lock_key = getattr(scheduler, "lock_key", None)
    if not lock_key:
        log.info("beat: the broker is not Redis: Celery's file scheduler, run this beat alone")
        return
    from redbeat.schedulers import get_redis

    held = get_redis(app).exists(lock_key)
    log.info(
        "beat: schedule in Redis; %s; the lock (%s) lapses %s s after its holder stops",
        "another beat holds the lock: this one waits to take over" if held else "taking the lock",
        lock_key,
        scheduler.lock_timeout,
    )


# The header a queued task carries the id of the request (or task) that queued it in.
REQUEST_ID_HEADER = "shop_request_id"


@signals.setup_logging.connect
def _use_the_shops_logging(loglevel: int | str | None = None, **_kwargs) -> None:
    """Workers and beat log through settings.LOGGING (JSON lines) instead of Celery's format.

    Connecting this receiver is what stops Celery from configuring the root logger itself.
    Celery's own loggers keep the command's --loglevel: its "ready." line is what tells a
    supervisor (the benches, the boot test) that the worker listens, whatever LOG_LEVEL says.
    """
    import logging
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


@signals.worker_init.connect
def _warm_up(**_kwargs) -> None:
    """In the worker's main process, before the pool forks: its pool processes start warm."""
    from .warmup import worker_process

    worker_process()


@signals.before_task_publish.connect
def _carry_the_request_id(headers: dict | None = None, **_kwargs) -> None:
    from core.logs import request_id

    rid = request_id.get()
    if rid and headers is not None:
        headers[REQUEST_ID_HEADER] = rid


@signals.task_prerun.connect
def _enter_the_request(task_id: str = "", task=None, **_kwargs) -> None:
    from core.logs import request_id, task_info

    rid = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    # Tokens are kept on the request so that postrun puts back what was there (eager tasks run
    # inside the web request that queued them).
    task.request._shop_log_tokens = (
        request_id.set(rid or request_id.get()),
        task_info.set({"task": task.name, "task_id": task_id}),
    )


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_as_for_a_request(task=None, **_kwargs) -> None:
    """Between tasks, what Django does between requests: a connection past DB_CONN_MAX_AGE, or
    left broken by an error, is closed, and the next query checks the rest (CONN_HEALTH_CHECKS).
    Celery's fixup closes none (CELERY_DB_REUSE_MAX). Not around an eager task: it runs inside its
    caller's request or transaction."""
    if task is not None and not task.request.is_eager:
        from django.db import close_old_connections

        close_old_connections()


@signals.task_postrun.connect
def _leave_the_request(task=None, **_kwargs) -> None:
    from core.logs import request_id, task_info

    tokens = getattr(task.request, "_shop_log_tokens", None) if task is not None else None
    if tokens:
        request_id.reset(tokens[0])
        task_info.reset(tokens[1])
