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


Match = Callable[[stripe.Event], bool]


def about(object_id: str) -> Match:
    """Events about one object of the test: a session, or a payment intent and its charges.

    The receiver lives for the whole run, so an event another test caused can
    arrive late; a test only ever looks at events about its own objects.
    """

    def match(event: stripe.Event) -> bool:
        obj = event.data.object
        return object_id in (obj.id, getattr(obj, "payment_intent", None))

    return match


@dataclass
class Delivery:
    body: bytes
    signature: str
    status: int

    @property
    def event(self) -> stripe.Event:
        """The event, unverified: enough to tell which test it belongs to."""
        return stripe.Webhook.construct_event_without_verification(self.body)


class WebhookReceiver:
    """Records every POST to /webhook; can be told to fail deliveries of chosen events."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.deliveries: list[Delivery] = []
        self._failures: list[tuple[Match, list[int]]] = []  # statuses to answer, per match
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        delivery = Delivery(body, request.headers.get("Stripe-Signature", ""), 200)
        with self._lock:
            for match, statuses in self._failures:
                if statuses and match(delivery.event):
                    delivery.status = statuses.pop(0)
                    break
            self.deliveries.append(delivery)
        return web.Response(status=delivery.status, text="ok" if delivery.status == 200 else "nope")

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
            self._failures.clear()

    def fail(self, match: Match, statuses: list[int]) -> None:
        """Answer the next deliveries of matching events with these statuses, then 200."""
        with self._lock:
            self._failures.append((match, list(statuses)))

    def deliveries_for(self, match: Match) -> list[Delivery]:
        """Every delivery (failed ones too) of matching events, in the order they came."""
        with self._lock:
            return [d for d in self.deliveries if match(d.event)]

    def wait_for(
        self, event_type: str, match: Match, *, count: int = 1, timeout: float = 10.0
    ) -> list[stripe.Event]:
        """Wait until `count` events of this type about the test's own objects were delivered,
        and return them checked with stripe.Webhook.construct_event. Other tests' events are
        never looked at (nor verified: they may be for an endpoint with another secret)."""
        deadline = time.monotonic() + timeout
        while True:
            ok = [d for d in self.deliveries_for(match) if d.status == 200 and d.event.type == event_type]
            if len(ok) >= count:
                return [stripe.Webhook.construct_event(d.body, d.signature, WEBHOOK_SECRET) for d in ok]
            if time.monotonic() > deadline:
                with self._lock:
                    seen = [(d.event.type, d.event.data.object.id, d.status) for d in self.deliveries]
                raise AssertionError(f"no {count} x {event_type} about this test delivered; got {seen}")
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
