"""--webhook-url at start, and a clean stop (localstripe too)."""

from __future__ import annotations

import os
import time

from sandboxes.stripe.testing import StripeSandbox


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_starts_and_stops_with_its_child() -> None:
    sb = StripeSandbox(webhook_url="http://127.0.0.1:9/hook", webhook_secret="whsec_x")
    sb.start()
    try:
        health = sb.control.health()
        child = health["localstripe"]["pid"]
        assert health["status"] == "ok"
        assert health["webhooks"] == [{"url": "http://127.0.0.1:9/hook", "secret": "whsec_x", "events": None}]
        assert health["public_url"] == sb.base_url
        assert _alive(child)
    finally:
        sb.stop()  # SIGTERM to the front, which stops localstripe
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
