"""Signed webhooks (§4) reach a real receiver, with retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from sandboxes._process import free_port
from sandboxes.roamify.testing import SandboxControl

SECRET = "whsec-test"
PID = "esim-japan-7days-1gb-all"


class Receiver:
    """A tiny aiohttp server on its own loop in a thread, recording what it gets."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: list[tuple[bytes, str]] = []
        self.fail_next = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500)
        self.received.append((await request.read(), request.headers.get("X-Roamify-Signature", "")))
        return web.Response(text="ok")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]

    def wait_for(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.events()


@pytest.fixture
def receiver(control: SandboxControl) -> Iterator[Receiver]:
    with Receiver() as r:
        control.set_webhook(r.url, SECRET)
        yield r


def test_signed_status_usage_and_partner_events(
    api: httpx.Client, control: SandboxControl, receiver: Receiver
) -> None:
    esim = api.post(
        "/api/esim/order/instant", json={"items": [{"packageId": PID, "quantity": 1}], "referenceId": "wh-1"}
    ).json()["data"]["esims"][0]
    control.esim_action(esim["id"], "activate")  # READY -> INSTALLED -> ACTIVATED
    control.esim_action(esim["id"], "consume", mb=600)  # crosses 25 % and 50 %
    control.set_balance(1)
    assert api.post("/api/esim/order", json={"items": [{"packageId": PID, "quantity": 1}]}).status_code == 409
    events = receiver.wait_for(5)
    for body, signature in receiver.received:
        assert signature == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    kinds = [(e["event_category"], e["event_type"], e["data"].get("status")) for e in events]
    assert kinds == [
        ("esim", "status", "INSTALLED"),
        ("esim", "status", "ACTIVATED"),
        ("esim", "usage", "INSTALLED"),
        ("esim", "usage", "INSTALLED"),
        ("partner", "insufficient_balance", None),
    ]
    status = events[1]["data"]
    assert status["iccid"] == esim["iccid"] and status["esim_id"] == esim["id"]
    assert status["reference_id"] == "wh-1" and status["end"] == status["start"] + 7 * 86400
    usage = events[3]["data"]
    assert usage["data_units"] == "MB" and usage["package_id"] == PID
    assert usage["usage_data"]["allowed_data"] == 1024
    assert usage["usage_data"]["remaining_data"] == 424
    assert usage["usage_list"][0]["data_used"] == 600
    assert events[4]["data"]["balance"] == 1 and events[4]["data"]["currency"] == "USD"


def test_retries_after_failure(api: httpx.Client, control: SandboxControl, receiver: Receiver) -> None:
    receiver.fail_next = 1
    esim = api.post("/api/esim/order/instant", json={"items": [{"packageId": PID, "quantity": 1}]}).json()[
        "data"
    ]["esims"][0]
    control.esim_action(esim["id"], "revoke")
    [event] = receiver.wait_for(1)
    assert event["data"]["status"] == "REVOKED"
    [delivery] = control.webhook_deliveries()
    assert delivery["attempts"] == 2 and delivery["delivered"]
