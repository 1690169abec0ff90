"""gunicorn's settings for the shop's web process, from the environment.

    gunicorn -c deploy/gunicorn.conf.py storefront.wsgi:application

The compose file's web service, the boot test (tests/deploy) and bench/edge_bench.py all
start it so. nginx is in front (deploy/nginx/): it buffers slow clients, so sync workers
suffice; GUNICORN_THREADS > 1 switches to gthread workers.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from core.logs import gunicorn_logconfig

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gunicorn's own advice: a worker waiting on PostgreSQL or Redis leaves its CPU to another.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
backlog = 2048

# A request taking longer is killed (nginx's proxy_read_timeout is a little longer, so this
# fires first and is logged). Views never wait long on upstream: the worker does that.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5  # behind nginx, which keeps connections to gunicorn open (gthread only)
# Recycle workers now and then, staggered, so that a slow leak never grows unbounded.
max_requests = 2000
max_requests_jitter = 200

# X-Forwarded-Proto is believed from these addresses: nginx (in compose, the web container is
# reachable by nginx alone, so "*" there).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The heartbeat file in memory: on a disk-backed /tmp, its fchmod can stall a worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (a directory, not a file name)
# gunicorn 25+ opens a control socket under $HOME by default: one path for every gunicorn of
# a user, which two on one machine (the bench's) fight over. Not used here.
control_socket_disable = True

# Logs: gunicorn's own lines (start, worker deaths, timeouts) as JSON too, by the shop's
# formatter, to stderr. Its access log stays off: Django logs one `shop.access` line per request
# (core/logs.py, LOG_REQUESTS), with the request id and the URL secrets redacted.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = gunicorn_logconfig(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "json"))
# GUNICORN_ACCESS_LOG=1 adds gunicorn's own access lines (through the same formatter, so
# redacted too): the path without its query string (%(U)s, never %(r)s or %(q)s) and no Referer,
# as order links carry their access token as ?t=..., and a Referer can be such a link.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
if os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in ("1", "true", "yes", "on"):
    logconfig_dict["loggers"]["gunicorn.access"] = {
        "handlers": ["console"],
        "level": "INFO",
        "propagate": False,
    }

# Page cache counters and the like, summed over the workers (prometheus_client's multiprocess
# mode) when PROMETHEUS_MULTIPROC_DIR is set (web only; a tmpfs in compose). Each worker writes
# its own files there; a dead worker's are marked so its gauges drop out.
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server) -> None:
    """Empty the metrics directory: counters left by a previous run would be added to this one's."""
    if METRICS_DIR:
        folder = Path(METRICS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob("*.db"):
            leftover.unlink()


def child_exit(server, worker) -> None:
    if METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
