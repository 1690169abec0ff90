"""Celery beat on every machine: real `celery beat` processes on Redis, the shop's own schedule.

The jobs whose interval the environment sets run every second here, on a queue and key prefix
of this test's own (the beats' keys are `<queue>:beat:*`). Two beats started together: each job
is queued by one of them only (a message's `origin` header names the process that sent it).
The sender killed with SIGKILL, as a lost machine: the other takes over once the lock lapses.
A third beat started meanwhile (the machine back) waits; the sender stopped cleanly gives the
lock back, and the third takes over. Without Redis (make demo), beat uses the file scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from bench._common import stop_process_group
from conftest import wait_until
from storefront.tests.test_filesystem_broker import demo_env

ROOT = Path(__file__).resolve().parents[2]
LOCK_TIMEOUT = 4  # BEAT_LOCK_TIMEOUT_SECONDS: the beats renew and try the lock every second
# The schedule's jobs whose interval comes from the environment: every second here.
EVERY_SECOND = {
    "CATALOG_SYNC_INTERVAL_SECONDS": "catalog.sync_catalog",
    "RECONCILE_INTERVAL_SECONDS": "checkout.reconcile_orders",
    "UPSTREAM_REFUND_SYNC_SECONDS": "checkout.sync_upstream_refunds",
    "ROAMIFY_BALANCE_CHECK_SECONDS": "esims.check_partner_balance",
    "GIFTCARD_SEND_INTERVAL_SECONDS": "giftcards.send_due",
}
STARTUP = 60  # a start-up limit on a loaded machine, not a speed assertion
WAITING = "another beat holds the lock: this one waits to take over"


class Beat:
    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        var = folder / name  # a machine of its own: its own VAR_DIR
        var.mkdir(exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "storefront", "-q", "beat", "--loglevel", "INFO"],
                env={**env, "VAR_DIR": str(var)},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.origin = f"gen{self.proc.pid}@"  # the `origin` header of what it sends

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        assert self.proc.poll() is None, f"{self.name} exited:\n{self.log()}"
        return True

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class Queue:
    """The messages the beats sent, read from the Redis list the broker keeps them in."""

    def __init__(self, url: str, name: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.name = name

    def sent(self) -> list[tuple[str, str]]:
        """(origin, task) of each message, oldest first."""
        raw = reversed(self.client.lrange(self.name, 0, -1))  # LPUSH: newest first
        return [(m["headers"]["origin"], m["headers"]["task"]) for m in map(json.loads, raw)]

    def by(self, beat: Beat) -> Counter:
        return Counter(task for origin, task in self.sent() if origin.startswith(beat.origin))

    def clean(self) -> None:
        keys = [*self.client.scan_iter(match=f"*{self.name}*", count=1000)]
        if keys:
            self.client.delete(*keys)


def each_job_sent(counts: Counter, times: int) -> bool:
    return all(counts[task] >= times for task in EVERY_SECOND.values())


@pytest.mark.slow
def test_two_beats_send_each_job_once_and_one_takes_over_when_the_other_is_lost(
    redis_url, settings, tmp_path
):
    schedule_tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(EVERY_SECOND.values()) <= schedule_tasks  # the shop's own schedule, not a test one
    queue_name = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-beat"
    queue = Queue(settings.CELERY_BROKER_URL, queue_name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings_test",
        "SHOP_TEST_WORKER": "1",  # keeps the queue named here
        "CELERY_QUEUE": queue_name,
        "REDIS_URL": redis_url,
        "BEAT_LOCK_TIMEOUT_SECONDS": str(LOCK_TIMEOUT),
        "LOG_FORMAT": "plain",
        "PYTHONUNBUFFERED": "1",
        **dict.fromkeys(EVERY_SECOND, "1"),
    }
    queue.clean()
    beats = [Beat("first", env, tmp_path), Beat("second", env, tmp_path)]
    try:
        wait_until(lambda: each_job_sent(Counter(t for _, t in queue.sent()), 3), STARTUP, what="each job")
        senders = {origin for origin, _ in queue.sent()}
        assert len(senders) == 1, f"both beats sent: {Counter(o for o, _ in queue.sent())}"
        sender, other = beats if beats[0].origin in senders.pop() else beats[::-1]
        assert set(queue.by(sender)) == set(EVERY_SECOND.values())  # the daily and 10-min jobs not yet due
        assert not queue.by(other)

        # The sender's machine is lost: its lock lapses (LOCK_TIMEOUT at most) and the other,
        # trying every second, takes it. The limit allows for a loaded machine.
        sender.kill()
        killed_at = time.monotonic()
        wait_until(lambda: queue.by(other), LOCK_TIMEOUT * 3, 0.05, what="the other beat to take over")
        print(f"taken over {time.monotonic() - killed_at:.1f} s after the sender was killed")

        # The machine comes back: its beat waits while the other holds the lock.
        back = Beat("back", env, tmp_path)
        beats.append(back)
        wait_until(lambda: back.alive() and WAITING in back.log(), STARTUP, what="the restarted beat to wait")
        before = queue.by(other)
        wait_until(lambda: each_job_sent(queue.by(other) - before, 3), 30, what="3 more of each job")
        assert not queue.by(back)

        # A beat stopped cleanly (a deploy) gives the lock back: the waiting one takes it.
        stop_process_group(other.proc, 15)
        assert "Releasing lock" in other.log()
        wait_until(lambda: queue.by(back), 15, 0.05, what="the restarted beat to take over")
    finally:
        for beat in beats:
            stop_process_group(beat.proc, 15)
        queue.clean()


@pytest.mark.slow
def test_without_redis_beat_uses_the_file_scheduler_and_says_so(tmp_path):
    """make demo: the filesystem broker, and beat's schedule in VAR_DIR (one beat only)."""
    var = tmp_path / "demo"  # Beat's VAR_DIR
    env = {**demo_env(var), "RECONCILE_INTERVAL_SECONDS": "1", "LOG_FORMAT": "plain", "PYTHONUNBUFFERED": "1"}
    beat = Beat("demo", env, tmp_path)
    try:

        def reconcile_sent() -> bool:
            messages = [json.loads(p.read_text()) for p in (var / "broker").glob("*.msg")]
            return any(m["headers"]["task"] == "checkout.reconcile_orders" for m in messages)

        wait_until(lambda: beat.alive() and reconcile_sent(), STARTUP, what="reconcile_orders queued")
    finally:
        stop_process_group(beat.proc, 15)
    assert "the broker is not Redis: Celery's file scheduler, run this beat alone" in beat.log()
    assert list(var.glob("celerybeat-schedule*"))
