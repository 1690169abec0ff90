"""Docker health checks of the shop's containers (docker-compose.yml), also run by tests/deploy.

    python deploy/healthcheck.py web    gunicorn answers (GUNICORN_BIND's port)
    python deploy/healthcheck.py beat   a beat holds the schedule's lock in Redis

Exit 0 when healthy. The web check asks /healthz and takes any HTTP answer, 503 included: the
container is healthy when gunicorn serves; whether the database or upstream is up is the load
balancer's question (/healthz through nginx), and restarting web would not fix them.
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path


def web() -> bool:
    port = int(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    # A host Django accepts, and https as nginx would say, so neither a DisallowedHost 400 nor
    # an HTTPS redirect stands in for the answer.
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h and h != "*"), "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        return conn.getresponse().status in (200, 503)
    except OSError:
        return False
    finally:
        conn.close()


def beat() -> bool:
    """Some beat holds the lock (RedBeat renews it at each tick, storefront/settings.py): the
    periodic jobs are being sent. A beat waiting to take over is healthy while another holds it;
    once the holder stops, one of them takes the lock within BEAT_LOCK_TIMEOUT_SECONDS."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    from storefront.celery import app

    if "redbeat" not in str(app.conf.beat_scheduler):
        print("beat's health check needs the Redis broker (the lock is there)")
        return False
    from redbeat.schedulers import ensure_conf, get_redis

    lock_key = ensure_conf(app).lock_key
    left_ms = get_redis(app).pttl(lock_key)
    print(f"{lock_key}: " + (f"held, {left_ms / 1000:.1f} s left" if left_ms > 0 else "no beat holds it"))
    return left_ms > 0


CHECKS = {"web": web, "beat": beat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHECKS)}")
    sys.exit(0 if CHECKS[sys.argv[1]]() else 1)
