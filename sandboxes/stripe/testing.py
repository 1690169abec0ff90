"""Start the Stripe sandbox from tests and drive it.

with StripeSandbox(webhook_url=..., webhook_secret="whsec_sandbox") as sb:
    client = stripe.StripeClient(sb.secret_key, base_addresses={"api": sb.base_url})
    session = client.v1.checkout.sessions.create(params={...})
    sb.control.pay(session.id)                      # 4242: paid, webhook sent
    sb.control.wait_for_event("checkout.session.completed")
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, TypedDict

import httpx

from sandboxes._process import SandboxProcess, free_port


class Attempt(TypedDict):
    at: float
    status: int | None
    error: str | None
    duration_ms: int


class Delivery(TypedDict):
    url: str
    delivered: bool
    attempts: list[Attempt]


class EventRecord(TypedDict):
    """A Stripe event (`id`, `type`, `data`...) plus our delivery log."""

    id: str
    object: str
    type: str
    created: int
    api_version: str
    livemode: bool
    data: dict[str, Any]
    deliveries: list[Delivery]


class Webhook(TypedDict):
    url: str
    secret: str
    events: list[str] | None


class PayResult(TypedDict):
    outcome: Literal["paid", "declined", "requires_action", "invalid", "not_open", "error"]
    message: str | None
    code: str | None
    decline_code: str | None
    errors: dict[str, str]
    payment_intent: str | None
    redirect_url: str | None
    session: dict[str, Any]


class Health(TypedDict):
    status: str
    public_url: str
    localstripe: dict[str, Any]
    sessions: int
    events: int
    webhooks: list[Webhook]


class ControlError(RuntimeError):
    pass


class Control:
    """Typed wrapper of `/_control/*` (no auth; loopback only)."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None, **kw: Any) -> Any:
        r = self._http.request(method, path, json=json, **kw)
        if r.status_code >= 400:
            raise ControlError(f"{method} {path} -> {r.status_code}: {r.text}")
        return r.json()

    def health(self) -> Health:
        return self._call("GET", "/_control/health")

    def reset(self) -> None:
        """Wipe localstripe, sessions, events and idempotency keys; webhooks stay."""
        self._call("POST", "/_control/reset")

    def register_webhook(self, url: str, secret: str, events: list[str] | None = None) -> list[Webhook]:
        """Add an endpoint, or replace the one with this URL."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        return self._call("POST", "/_control/webhooks", body)["webhooks"]

    def webhooks(self) -> list[Webhook]:
        return self._call("GET", "/_control/webhooks")["webhooks"]

    def remove_webhooks(self, url: str | None = None) -> list[Webhook]:
        """Drop one endpoint, or all of them when `url` is None."""
        params = {"url": url} if url else None
        return self._call("DELETE", "/_control/webhooks", params=params)["webhooks"]

    def events(self, type: str | None = None) -> list[EventRecord]:
        """Events created so far, oldest first, with delivery attempts."""
        params = {"type": type} if type else None
        return self._call("GET", "/_control/events", params=params)["data"]

    def fault(self, path: str, mode: Literal["before", "after"], times: int = 1) -> dict[str, Any]:
        """Answer the next `times` POSTs to `path` with a 500: "before" running them, or "after"
        (done, and kept under their Idempotency-Key, but the caller never hears)."""
        return self._call("POST", "/_control/faults", {"path": path, "mode": mode, "times": times})["faults"]

    def webhook_chaos(
        self, *, copies: int | None = None, max_delay: float | None = None, seed: int | None = None
    ) -> dict[str, Any]:
        """With arguments: send each event `copies` times, each copy after a random delay of up to
        `max_delay` s (seeded), so events arrive twice and out of order. Returns the settings and
        `counts` (duplicated, delayed, out_of_order)."""
        if copies is None and max_delay is None and seed is None:
            return self._call("GET", "/_control/webhook_chaos")
        body = {"copies": copies or 1, "max_delay": max_delay or 0, "seed": seed or 0}
        return self._call("POST", "/_control/webhook_chaos", body)

    def redeliver(self, event_id: str) -> EventRecord:
        return self._call("POST", f"/_control/events/{event_id}/redeliver")

    def pay(
        self,
        session_id: str,
        card: str = "4242424242424242",
        *,
        exp: str = "12/34",
        cvc: str = "123",
        name: str = "Test Customer",
        email: str | None = None,
        three_d_secure: Literal["complete", "fail"] | None = None,
    ) -> PayResult:
        """Pay like the hosted form does. 3DS cards stop at `requires_action` unless
        `three_d_secure` says how the challenge ends (or call `authenticate`)."""
        body: dict[str, Any] = {"card": card, "exp": exp, "cvc": cvc, "name": name}
        if email:
            body["email"] = email
        if three_d_secure:
            body["three_d_secure"] = three_d_secure
        return self._call("POST", f"/_control/sessions/{session_id}/pay", body)

    def authenticate(self, session_id: str, success: bool = True) -> PayResult:
        return self._call("POST", f"/_control/sessions/{session_id}/authenticate", {"success": success})

    def set_expires_at(self, session_id: str, *, seconds_from_now: float) -> dict[str, Any]:
        """Move a session's `expires_at` (Stripe's API allows no less than 30 min)."""
        return self._call(
            "POST", f"/_control/sessions/{session_id}/expires_at", {"seconds": seconds_from_now}
        )

    def sessions(self) -> list[dict[str, Any]]:
        """Every session with its payment attempts (for debugging)."""
        return self._call("GET", "/_control/sessions")["data"]

    def wait_for_event(
        self,
        type: str,
        *,
        count: int = 1,
        delivered: bool = False,
        timeout: float = 10.0,
    ) -> list[EventRecord]:
        """Poll until `count` events of `type` exist (and, if asked, all reached every endpoint)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(type)
            if len(found) >= count and (
                not delivered or all(d["delivered"] for e in found for d in e["deliveries"])
            ):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} x {type} not seen in {timeout}s: {found}")
            time.sleep(0.05)


class StripeSandbox:
    """`python -m sandboxes.stripe` as a child process (with its localstripe child)."""

    secret_key = "sk_test_sandbox"
    publishable_key = "pk_test_sandbox"

    def __init__(
        self,
        port: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        log_path: Path | None = None,
        *,
        public_url: str | None = None,
        webhook_backoff: float | None = None,
        state_file: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.webhook_secret = webhook_secret or "whsec_sandbox"
        args = ["--port", str(self.port)]
        if webhook_url:
            args += ["--webhook-url", webhook_url, "--webhook-secret", self.webhook_secret]
        if public_url:
            args += ["--public-url", public_url]
        if webhook_backoff is not None:
            args += ["--webhook-backoff", str(webhook_backoff)]
        if not state_file:
            args.append("--no-state-file")
        self._process = SandboxProcess(
            "sandboxes.stripe", args, self.port, "/_control/health", log_path=log_path
        )
        self._control: Control | None = None

    @property
    def base_url(self) -> str:
        return self._process.base_url

    @property
    def control(self) -> Control:
        if self._control is None:
            self._control = Control(self.base_url)
        return self._control

    @property
    def pid(self) -> int | None:
        return self._process.proc.pid if self._process.proc else None

    def start(self, timeout: float = 30.0) -> StripeSandbox:
        self._process.start(timeout=timeout)
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        self._process.stop()  # SIGTERM: the front stops localstripe itself

    def __enter__(self) -> StripeSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
