"""The demo's filesystem broker keeps everything it writes under VAR_DIR.

A real worker is started with the working directory set to an empty folder:
kombu's filesystem transport writes its exchange tables to `control/`
relative to the working directory unless told otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


NODE = "filesystem-broker@localhost"


def demo_env(var: Path) -> dict[str, str]:
    """The demo's environment (no Redis), with VAR_DIR laid out as scripts/demo.py prepares it."""
    (var / "broker" / "processed").mkdir(parents=True)
    (var / "broker" / "control").mkdir()
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": "1",
        "VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
    }


@pytest.mark.slow
def test_a_worker_on_the_filesystem_broker_writes_only_under_var_dir(tmp_path):
    cwd, var = tmp_path / "cwd", tmp_path / "var"
    cwd.mkdir()
    env = demo_env(var)
    celery = [sys.executable, "-m", "celery", "-A", "storefront"]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [*celery, "worker", "--loglevel", "INFO", "--concurrency", "1", "-n", NODE],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60  # a start-up limit, not a speed assertion
        while "ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        # A broadcast goes through the exchange tables (the control folder) and back. Naming
        # the worker ends the wait at its answer (without, ping waits out the whole timeout).
        ping = subprocess.run(
            [*celery, "inspect", "ping", "--timeout", "10", "--destination", NODE],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "pong" in ping.stdout, ping.stdout + ping.stderr
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert files_under(cwd) == []
    assert any(name.endswith(".exchange") for name in files_under(var / "broker" / "control"))
