"""How the sandbox is set up: start-up configuration (the CLI) and the knobs the control API turns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .errors import ControlError

DEFAULT_TOKEN = "sandbox-roamify-token"
DEFAULT_SMDP = "smdp.sandbox.roamify.invalid"


@dataclass
class Config:
    """Start-up configuration (CLI); `reset` returns the world to exactly this."""

    seed: int = 1
    token: str = DEFAULT_TOKEN
    host: str = "127.0.0.1"
    port: int = 8100
    public_url: str | None = None
    latency: str = "zero"
    page_mode: str = "group"
    unique_reference_ids: bool = False
    usage_unit: str = "MB"
    balance: float = 100_000.0
    webhook_url: str | None = None
    webhook_secret: str = ""
    allow_bare_token: bool = False
    unknown_package_status: int = 500
    smdp_address: str = DEFAULT_SMDP
    low_balance_threshold: float = 100.0

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass
class Knobs:
    """Behaviour switches the control API may change at run time."""

    apply_pending_seconds: float = 0.0
    instant_pending_seconds: float = 0.0
    latency: str = "zero"
    page_mode: str = "group"
    usage_unit: str = "MB"
    unique_reference_ids: bool = False
    unknown_package_status: int = 500
    allow_bare_token: bool = False
    low_balance_threshold: float = 100.0
    # Share of instant orders that come back pending when instant_pending_seconds > 0
    # (1: all of them, the default; less draws from the seeded fault RNG).
    instant_pending_rate: float = 1.0
    # Whether an unlimited eSIM takes data packs as top-ups (listed by §2.16 and accepted by the
    # top-up order). Off: it takes only unlimited packages (more days), as most networks sell them.
    unlimited_takes_data: bool = False

    CHOICES = {
        "latency": ("zero", "realistic"),
        "page_mode": ("group", "package"),
        "usage_unit": ("MB", "KB"),
        "unknown_package_status": (500, 400),
    }

    @classmethod
    def from_config(cls, c: Config) -> Knobs:
        return cls(
            latency=c.latency,
            page_mode=c.page_mode,
            usage_unit=c.usage_unit,
            unique_reference_ids=c.unique_reference_ids,
            unknown_package_status=c.unknown_package_status,
            allow_bare_token=c.allow_bare_token,
            low_balance_threshold=c.low_balance_threshold,
        )

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ControlError(400, f"unknown knob {key!r}; known: {sorted(known)}")
            current = getattr(self, key)
            if isinstance(current, bool):
                ok = isinstance(value, bool)
            elif isinstance(current, float):
                ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
                value = float(value) if ok else value
            else:
                ok = value in self.CHOICES.get(key, ())
            if ok and key.endswith("_rate"):
                ok = value <= 1
            if not ok:
                raise ControlError(400, f"bad value for {key}: {value!r}")
            staged[key] = value
        for key, value in staged.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
