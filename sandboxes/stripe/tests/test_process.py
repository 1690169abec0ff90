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


def _written(pid: int) -> int:
    """Bytes the process has written (files and sockets), from /proc."""
    with open(f"/proc/{pid}/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("wchar:"))


def _pay(sb: StripeSandbox, client) -> None:
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "http://127.0.0.1:9/ok",
            "cancel_url": "http://127.0.0.1:9/no",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "x"}},
                }
            ],
        }
    )
    assert sb.control.pay(session.id)["outcome"] == "paid"


def test_no_state_file_keeps_localstripe_in_memory() -> None:
    # localstripe pickles its whole state to a file on every write, so each payment writes (and
    # costs) more than the one before; with --no-state-file it writes only its HTTP answers.
    import stripe

    per_payment = {}
    for state_file in (True, False):
        with StripeSandbox(state_file=state_file) as sb:
            client = stripe.StripeClient(sb.secret_key, base_addresses={"api": sb.base_url})
            child = sb.control.health()["localstripe"]["pid"]
            for _ in range(10):
                _pay(sb, client)
            before = _written(child)
            for _ in range(10):
                _pay(sb, client)
            per_payment[state_file] = (_written(child) - before) / 10
    assert per_payment[False] * 5 < per_payment[True], per_payment
