"""Sentry is optional: with SENTRY_DSN set, an error in a view reaches it (a local fake server
here), without personal data or the URL's secrets; without a DSN sentry_sdk is not even imported.

Each case runs in a process of its own: Sentry's integrations patch Django and Celery for good.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, threading, urllib.error, urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server
import django
django.setup()
from django.core.wsgi import get_wsgi_application
from django.test.utils import override_settings
print("imported:", "sentry_sdk" in sys.modules)
if "sentry_sdk" in sys.modules:
    import sentry_sdk
    print("integrations:", ",".join(sorted(sentry_sdk.get_client().integrations)))
    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass
    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/boom/?t=SeCrEtToKeN123&x=1",
                                     headers={"Cookie": "sessionid=SeCrEtSeSsIoN"})
    with override_settings(ROOT_URLCONF="storefront.tests.boom_urls", ALLOWED_HOSTS=["127.0.0.1"]):
        try:
            urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            print("status:", exc.code)
    sentry_sdk.flush(10)
    server.shutdown()
"""


class FakeSentry(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.envelopes: list[tuple[str, bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_sentry():
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(env: dict[str, str]) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "storefront.settings_test", **env}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _test_database() -> dict[str, str]:
    """The test database for the child process: the request carries a session cookie, which the
    language middleware reads (a saved language), so the child needs the session table."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        return {}
    return {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}


@pytest.mark.django_db
def test_an_error_in_a_view_reaches_sentry_without_secrets(fake_sentry):
    port = fake_sentry.server_address[1]
    out = run(
        {
            "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/42",
            "SENTRY_ENVIRONMENT": "test",
            **_test_database(),
        }
    )
    assert "imported: True" in out and "status: 500" in out
    integrations = out.split("integrations:")[1].split()[0].split(",")
    assert {"django", "celery"} <= set(integrations)
    events = [body for path, body in fake_sentry.envelopes if path == "/api/42/envelope/"]
    assert events, fake_sentry.envelopes
    text = b"\n".join(events).decode()
    items = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    errors = [i for i in items if i.get("exception")]
    assert errors and errors[0]["exception"]["values"][-1]["type"] == "RuntimeError"
    assert errors[0]["environment"] == "test"
    assert errors[0]["request"]["url"].endswith("/boom/")
    assert "t=[redacted]" in errors[0]["request"]["query_string"]
    assert "SeCrEtToKeN123" not in text and "SeCrEtSeSsIoN" not in text  # no token, no cookie


def test_without_a_dsn_sentry_is_not_imported():
    out = run({"SENTRY_DSN": ""})
    assert "imported: False" in out
