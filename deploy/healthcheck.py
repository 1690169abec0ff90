"""Docker health checks of the shop's containers (docker-compose.yml), also run by tests/deploy.

    python deploy/healthcheck.py web    gunicorn answers (GUNICORN_BIND's port)
    python deploy/healthcheck.py beat   beat wrote its schedule file lately

Exit 0 when healthy. The web check asks /healthz and takes any HTTP answer, 503 included: the
container is healthy when gunicorn serves; whether the database or upstream is up is the load
balancer's question (/healthz through nginx), and restarting web would not fix them.
"""

from __future__ import annotations

import http.client
import os
import sys
import time
from pathlib import Path

# Beat saves its schedule at start and then every few minutes (Celery's beat_sync_every, and
# its 5-minute longest sleep); three times that without a write means it is stuck.
BEAT_STALE_SECONDS = 900


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
    var_dir = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    # The shelve behind it may add a suffix (.db, .dat) depending on the dbm module.
    files = list(var_dir.glob("celerybeat-schedule*"))
    return bool(files) and time.time() - max(f.stat().st_mtime for f in files) < BEAT_STALE_SECONDS


CHECKS = {"web": web, "beat": beat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHECKS)}")
    sys.exit(0 if CHECKS[sys.argv[1]]() else 1)
