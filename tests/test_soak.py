"""The short soak (`python -m bench.soak --short`): shoppers buy eSIMs, gift cards and top-ups for half a
minute while the Roamify sandbox fails calls, Stripe webhooks come twice and out of order, a Celery
worker is SIGKILLed twice and the web server once; then the books must balance, and every paid order
must have completed (no fault of the soak is meant to leave one needing staff: bench/soak/faults.py).

The soak starts its own world (database, Redis queue, sandboxes, gunicorn, workers, beat), so this
test only needs PostgreSQL and Redis on 127.0.0.1 and runs it as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._common import answers
from bench.soak.books import PAID_ORDERS_COMPLETED
from conftest import need

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("soak")]


def test_short_soak_loses_nothing(tmp_path: Path) -> None:
    need(answers("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    need(answers("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    # A clean environment: nothing of the test run's settings (database, cache prefix) leaks in.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    command = [sys.executable, "-m", "bench.soak", "--short", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout[-6000:] + done.stderr[-3000:]
    written = list(tmp_path.glob("soak-*.json"))
    assert len(written) == 1, output
    result = json.loads(written[0].read_text())

    # Every paid order completed; one that needs action fails the test with its number, its reason
    # and the end of its timeline.
    paid = result["checks"][PAID_ORDERS_COMPLETED]
    assert not paid["not_completed"], "paid orders that did not complete:\n" + "\n".join(
        f"{o['number']} {o['status']} ({o['reason']}):\n    " + "\n    ".join(o["last_events"])
        for o in paid["not_completed"]
    )
    assert result["not_completed"] == 0 and paid["paid_orders"] == paid["completed"], paid
    # A soak that sold nothing proves nothing.
    assert result["metrics"]["orders_completed"] >= 1 and paid["completed"] >= 1, result["metrics"]
    # The faults really happened, and the shoppers really shopped every kind of order.
    faults = result["faults"]
    assert faults["worker_sigkills"] >= 2 and faults["web_restarts"] == 1
    assert sum(faults["roamify"].values()) > 0 and faults["stripe_webhooks"]["duplicated"] > 0
    kinds = result["metrics"]["orders_by_kind"]
    assert {"esim", "giftcard"} <= set(kinds), kinds
    failed = {name: check for name, check in result["checks"].items() if not check["ok"]}
    assert not failed, failed
    assert (result["lost"], result["duplicates"], result["server_errors"]) == (0, 0, 0)
    assert done.returncode == 0, output
