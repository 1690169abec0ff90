"""One Stripe sandbox for the whole run, wiped before each test, plus a webhook
receiver (a tiny aiohttp server in a thread) that also serves the shop's
success and cancel pages for the browser test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe
from aiohttp import web

from sandboxes._process import free_port
from sandboxes.stripe.testing import StripeSandbox

WEBHOOK_SECRET = "whsec_test_receiver"


@dataclass
class Delivery:
    body: bytes
    signature: str
    status: int


class WebhookReceiver:
    """Records every POST to /webhook; can be told to fail the next N deliveries."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.deliveries: list[Delivery] = []
        self.fail_next: list[int] = []  # statuses to answer before going back to 200
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            status = self.fail_next.pop(0) if self.fail_next else 200
            self.deliveries.append(Delivery(body, request.headers.get("Stripe-Signature", ""), status))
        return web.Response(status=status, text="ok" if status == 200 else "nope")

    async def _success(self, request: web.Request) -> web.Response:
        sid = request.query.get("session_id", "")
        return web.Response(
            text=f"<!doctype html><title>Thanks</title><h1>Thanks for your order</h1><p>{sid}</p>",
            content_type="text/html",
        )

    async def _cancel(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>Cart</title><h1>Your cart</h1>", content_type="text/html"
        )

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._webhook)
        app.router.add_get("/success", self._success)
        app.router.add_get("/cancel", self._cancel)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        if self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.fail_next.clear()

    def events(self, secret: str = WEBHOOK_SECRET) -> list[stripe.Event]:
        """Successful deliveries, each checked with stripe.Webhook.construct_event."""
        with self._lock:
            ok = [d for d in self.deliveries if d.status == 200]
        return [stripe.Webhook.construct_event(d.body, d.signature, secret) for d in ok]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 10.0) -> list[stripe.Event]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events() if e.type == event_type]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {event_type} delivered; got {self.events()}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def sandbox(receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeSandbox]:
    log = Path(tmp_path_factory.mktemp("stripe-sandbox")) / "sandbox.log"
    # Short backoff so the retry test does not wait for long.
    with StripeSandbox(
        webhook_url=receiver.url + "/webhook",
        webhook_secret=WEBHOOK_SECRET,
        log_path=log,
        webhook_backoff=0.2,
    ) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: StripeSandbox, receiver: WebhookReceiver) -> StripeSandbox:
    sandbox.control.reset()
    # Back to exactly one endpoint: the receiver (tests may add others).
    sandbox.control.remove_webhooks()
    sandbox.control.register_webhook(receiver.url + "/webhook", WEBHOOK_SECRET)
    receiver.clear()
    return sandbox


@pytest.fixture
def client(sb: StripeSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(sb.secret_key, base_addresses={"api": sb.base_url}, max_network_retries=0)


def session_params(receiver: WebhookReceiver, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1299,
                    "product_data": {"name": "Japan 5 GB", "description": "30 days, 4G/5G"},
                },
                "quantity": 2,
            }
        ],
        "success_url": receiver.url + "/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": receiver.url + "/cancel",
        "customer_email": "traveller@example.com",
        "client_reference_id": "ORD-0001",
        "metadata": {"order_number": "ORD-0001"},
        "payment_intent_data": {"metadata": {"order_number": "ORD-0001"}},
    }
    params.update(overrides)
    return params


@pytest.fixture
def make_session(
    client: stripe.StripeClient, receiver: WebhookReceiver
) -> Callable[..., stripe.checkout.Session]:
    def make(**overrides: Any) -> stripe.checkout.Session:
        return client.v1.checkout.sessions.create(params=session_params(receiver, **overrides))

    return make
