"""gunicorn with the shipped config (deploy/gunicorn.conf.py, as compose's web runs it): every
line it writes is JSON, a signed link's token is not among them, and page cache counters are
summed over its worker processes (prometheus_client's multiprocess mode), from zero at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import wait_for_http
from sandboxes._process import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gunicorn(tmp_path, postgres):
    from django.db import connection

    db = connection.settings_dict  # the test database: migrated, its catalog empty
    port = free_port()
    (tmp_path / "prom").mkdir()
    # A previous run's counters: the config's on_starting must clear them (else they are summed
    # in, or, as here, unreadable: /metrics would fail).
    (tmp_path / "prom" / "counter_4242.db").write_bytes(b"\x10\x00\x00\x00left over" * 8)
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings_test",
        "METRICS_TOKEN": "tok",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "CACHE_REDIS_URL": "",
        "REDIS_URL": "",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "storefront.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/metrics")
    yield base, log
    proc.terminate()
    proc.wait(timeout=20)


def test_gunicorn_lines_are_json_and_workers_share_counters(gunicorn):
    base, log = gunicorn
    assert httpx.get(f"{base}/esim/install/SeCrEtLiNkToKeN/", timeout=10).status_code == 404
    with httpx.Client(base_url=base, timeout=10) as client:  # sync workers: a connection a request
        for _ in range(6):
            assert client.get("/").status_code == 200  # a cached page, counted by the worker serving it
    text = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer tok"}, timeout=10).text
    counted = sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("shop_page_cache_requests_total{")
    )
    assert counted == 6
    lines = log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any(e["logger"] == "gunicorn.error" for e in entries)
    assert any(e["logger"] == "shop.access" and e["path"] == "/esim/install/[redacted]/" for e in entries)
    assert "SeCrEtLiNkToKeN" not in log.read_text()
