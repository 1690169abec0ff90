"""Web and worker processes pay their one-time costs as they start, not in their first request or
task (storefront/warmup.py). Each check runs in a fresh interpreter, as a new process starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the first eSIM email of a process needs: the templates, the QR code, the Roamify client.
WORKER = """
import json, sys
import django
django.setup()
from celery import signals
from storefront.celery import app
app.loader.import_default_modules()  # as the worker's main process does, then:
signals.worker_init.send(sender=None)

from core.roamify_client import _client
built = _client.cache_info().misses
from django.template.loaders import filesystem
reads = []
read = filesystem.Loader.get_contents
filesystem.Loader.get_contents = lambda self, origin: reads.append(origin.name) or read(self, origin)
before = set(sys.modules)

from django.template.loader import get_template
from core.roamify_client import roamify_client
from esims.emails import install_email
from esims.models import Esim

roamify_client()
esim = Esim(pk=1, iccid="8944000000000000001", lpa_code="LPA:1$smdp.example$CODE", title="Japan")
context = {"order": {"number": "A-1"}, "order_url": "https://shop.example/o", "help_url": "https://shop.example/h"}
install_email([esim], "traveller@example.com", "Your eSIM is ready", context).message().as_bytes()
for name in ("receipt", "refund", "low_data", "giftcard_delivery"):
    get_template(f"emails/{name}.txt"), get_template(f"emails/{name}.html")
print(json.dumps({
    "imported": sorted(set(sys.modules) - before),
    "template_files_read": reads,
    "roamify_clients_built": _client.cache_info().misses - built,
}))
"""

# What the first request of a web process would import (the URLconf, every view), and what the
# first task it queues imports.
WEB = """
import json, sys
import storefront.wsgi
views = ["storefront.urls", "payments.views", "checkout.views", "accounts.views", "allauth.account.views"]
loaded = [name for name in views if name in sys.modules]
before = set(sys.modules)
from celery import current_app
current_app.send_task("checkout.reconcile_orders", queue=sys.argv[1])
print(json.dumps({"views_loaded": loaded, "imported_to_queue": sorted(set(sys.modules) - before)}))
"""


def run(code: str, *args: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "storefront.settings_test", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_process_starts_with_the_email_templates_qr_code_and_roamify_client_ready():
    first_email = run(WORKER)
    assert first_email == {"imported": [], "template_files_read": [], "roamify_clients_built": 0}


def test_a_web_process_starts_with_its_views_loaded_and_queues_its_first_task_importing_nothing(redis_url):
    queue = f"warmup-test-{uuid.uuid4().hex}"
    try:
        first_task = run(WEB, queue)
    finally:
        import redis

        redis.Redis.from_url(redis_url).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )
    assert first_task == {
        "views_loaded": [
            "storefront.urls",
            "payments.views",
            "checkout.views",
            "accounts.views",
            "allauth.account.views",
        ],
        "imported_to_queue": [],
    }


def test_the_worker_warm_up_opens_no_connection():
    """A pool process must not inherit a connection from the worker's main process."""
    opened = run(
        """
import json
import django
django.setup()
from celery import signals
signals.worker_init.send(sender=None)
from django.db import connections
from core.roamify_client import roamify_client
print(json.dumps({
    "database": [c.alias for c in connections.all() if c.connection is not None],
    "upstream": len(roamify_client()._http._transport._pool.connections),
}))
"""
    )
    assert opened == {"database": [], "upstream": 0}


def test_a_warm_up_that_fails_is_logged_and_the_process_starts_anyway(caplog):
    from unittest import mock

    from storefront import warmup

    with mock.patch("django.urls.get_resolver", side_effect=RuntimeError("no URLconf")):
        warmup.web_process()  # raises nothing
    assert "web_process failed" in caplog.text and "no URLconf" in caplog.text
