"""Helpers for test suites: start the sandbox as a child process and drive `/_control/`.

with RoamifySandbox(seed=1) as sb:
    client = MyClient(sb.base_url, sb.token)
    sb.control.inject_fault("POST", "/api/esim/order/instant", status=503)
    ...
    sb.control.reset()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from sandboxes._process import SandboxProcess, free_port

from .config import DEFAULT_TOKEN


class SandboxControl:
    """Typed wrapper over the control API (no auth; loopback only)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/_control", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self._http.request(method, path, json=body)
        if resp.status_code >= 400:
            raise RuntimeError(f"control {method} {path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def reset(self) -> None:
        """Fresh seeded state: orders, eSIMs, balance, clock, faults, knobs, token, catalog."""
        self._call("POST", "/reset")

    def ledger(self) -> list[dict[str, Any]]:
        """Every accepted order, oldest first: id, referenceId, kind, items, total, status."""
        return list(self._call("GET", "/ledger")["orders"])

    def balance(self) -> float:
        return float(self._call("GET", "/balance")["balance"])

    def set_balance(self, balance: float) -> None:
        self._call("POST", "/balance", {"balance": balance})

    def rates(self) -> dict[str, Any]:
        """{"base": "USD", "rates": {code: "0.9215"}, "age_seconds": {code: n}}."""
        return dict(self._call("GET", "/rates"))

    def set_rate(self, currency: str, rate: float | str | None = None, age_seconds: float = 0) -> None:
        """Change a rate (per 1 USD) and/or stamp it `age_seconds` old (a stale rate)."""
        body: dict[str, Any] = {"currency": currency, "age_seconds": age_seconds}
        if rate is not None:
            body["rate"] = rate
        self._call("POST", "/rates", body)

    def remove_currency(self, currency: str) -> None:
        """Roamify stops supporting the currency: no rate, not in /api/currencies."""
        self._call("POST", "/rates", {"currency": currency, "remove": True})

    def now(self) -> int:
        return int(self._call("GET", "/clock")["now"])

    def advance_clock(self, seconds: float) -> int:
        """Move the sandbox clock forward; returns the new sandbox time (Unix seconds)."""
        return int(self._call("POST", "/clock", {"advance_seconds": seconds})["now"])

    def inject_fault(
        self,
        method: str,
        path: str,
        *,
        count: int | None = 1,
        status: int | None = None,
        body: Any = None,
        hang_seconds: float = 0,
        then: str = "create",
        latency_ms: float | None = None,
        probability: float | None = None,
        name: str | None = None,
    ) -> list[dict[str, Any]]:
        """Next `count` calls (None: until cleared) to METHOD PATH misbehave.

        status alone: answered at once with that status/body, handler not run.
        hang_seconds: wait that long; with then="create" the real handler runs first
        (the order exists), with then="drop" it never runs; the answer is `status`/`body`
        if given, else the real response (create) or a 504 (drop).
        latency_ms: extra delay before normal handling.
        probability: only that share of matching calls (seeded RNG); the others fall through
        to the next fault or normal handling. `name` labels it in `injected()`.
        """
        return list(
            self._call(
                "POST",
                "/faults",
                {
                    "method": method,
                    "path": path,
                    "count": count,
                    "status": status,
                    "body": body,
                    "hang_seconds": hang_seconds,
                    "then": then,
                    "latency_ms": latency_ms,
                    "probability": probability,
                    "name": name,
                },
            )["faults"]
        )

    def injected(self) -> dict[str, int]:
        """How often each fault fired (by name or label) and, as "pending", how many instant
        orders `instant_pending_rate` made pending."""
        return dict(self._call("GET", "/injected")["injected"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_knobs(self, **knobs: Any) -> dict[str, Any]:
        """apply_pending_seconds, instant_pending_seconds, latency, page_mode, usage_unit,
        unique_reference_ids, unknown_package_status, allow_bare_token,
        low_balance_threshold, instant_pending_rate, unlimited_takes_data. Returns all knobs."""
        return dict(self._call("POST", "/knobs", knobs)["knobs"])

    def knobs(self) -> dict[str, Any]:
        return dict(self._call("GET", "/knobs")["knobs"])

    def esim_action(self, esim_id: str, action: str, **body: Any) -> dict[str, Any]:
        """action: install | activate | consume (mb=, date=, location=) | expire | revoke.
        `esim_id` may also be an ICCID. Returns the eSIM as the API shows it."""
        return dict(self._call("POST", f"/esims/{esim_id}/{action}", body))

    def refunds(self) -> list[dict[str, Any]]:
        """Every refund request received, oldest first, as the API shows them."""
        return list(self._call("GET", "/refunds")["refunds"])

    def refund_action(self, refund_id: str, action: str, **body: Any) -> dict[str, Any]:
        """Roamify support decides: process | approve (money back to the balance, `refunded`
        webhook) | reject (reason=..., `rejected` webhook). Returns the request."""
        return dict(self._call("POST", f"/refunds/{refund_id}/{action}", body))

    def set_webhook(self, url: str | None, secret: str) -> None:
        self._call("POST", "/webhook", {"url": url, "secret": secret})

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/webhooks")["deliveries"])

    def set_token(self, token: str) -> None:
        """Simulate a key rotation in the partner portal: the old token gets 401 at once."""
        self._call("POST", "/token", {"token": token})

    def update_package(self, package_id: str, **fields: Any) -> dict[str, Any]:
        """Change catalog fields (e.g. price=9.99, day=10); withTopUp=False is also accepted."""
        return dict(self._call("POST", f"/catalog/packages/{package_id}", fields))

    def remove_package(self, package_id: str) -> None:
        self._call("DELETE", f"/catalog/packages/{package_id}")

    def add_package(self, group_id: str, package: dict[str, Any]) -> dict[str, Any]:
        """Add to a destination group (e.g. "japan-esims"); missing keys are filled in."""
        return dict(self._call("POST", "/catalog/packages", {"groupId": group_id, "package": package}))

    def special_packages(self) -> dict[str, Any]:
        """Package ids with travelDate, noUsageCheck, noTopUp; a few unlimited ones."""
        return dict(self._call("GET", "/catalog/special"))


class RoamifySandbox:
    """The sandbox as a child process on a free loopback port."""

    def __init__(
        self,
        seed: int = 1,
        token: str = DEFAULT_TOKEN,
        extra_args: list[str] | None = None,
        port: int | None = None,
        log_path: Path | str | None = None,
    ) -> None:
        self.seed = seed
        self.token = token
        self.port = port or free_port()
        args = ["--port", str(self.port), "--seed", str(seed), "--token", token, *(extra_args or [])]
        self._process = SandboxProcess(
            "sandboxes.roamify",
            args,
            self.port,
            "/_control/health",
            log_path=Path(log_path) if log_path else None,
        )
        self._control: SandboxControl | None = None

    @property
    def base_url(self) -> str:
        return self._process.base_url

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            self._control = SandboxControl(self.base_url)
        return self._control

    def start(self, timeout: float = 30.0) -> RoamifySandbox:
        self._process.start(timeout)
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        self._process.stop()

    def __enter__(self) -> RoamifySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
