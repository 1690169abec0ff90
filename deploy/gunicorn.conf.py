"""gunicorn's settings for the shop's web process, from the environment.

    gunicorn -c deploy/gunicorn.conf.py storefront.wsgi:application

The compose file's web service, the boot test (tests/deploy) and bench/edge_bench.py all
start it so. nginx is in front (deploy/nginx/): it buffers slow clients, so sync workers
suffice; GUNICORN_THREADS > 1 switches to gthread workers.
"""

from __future__ import annotations

import multiprocessing
import os

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

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The path without its query string (%(U)s, not %(r)s) and no Referer: order links carry
# their access token as ?t=..., and a Referer can be such a link.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
