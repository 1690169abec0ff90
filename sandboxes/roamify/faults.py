"""Injected faults (§5.6): the next calls to a path answer with a status, hang or slow down, every
time or by seeded chance; and the share of instant orders that come back pending."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .base import WorldBase
from .config import Config


@dataclass
class Fault:
    method: str
    path: str
    remaining: int | None  # None: until cleared
    status: int | None = None
    body: Any = None
    hang_seconds: float = 0.0
    then: str = "create"  # with hang_seconds: run the real handler first ("create") or not
    latency_ms: float | None = None
    probability: float | None = None  # None: every matching call; else that share of them (seeded)
    name: str | None = None  # what the injected-faults counter calls it

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.status is not None:
            what = f"status {self.status}"
        else:
            what = "hang" if self.hang_seconds else "latency"
        return f"{what} {self.method} {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "probability": self.probability,
            "method": self.method,
            "path": self.path,
            "count": self.remaining,
            "status": self.status,
            "body": self.body,
            "hang_seconds": self.hang_seconds,
            "then": self.then,
            "latency_ms": self.latency_ms,
        }


class Faults(WorldBase):
    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.faults: list[Fault] = []
        # Probabilistic faults and pending profiles draw from their own seeded RNG, so they
        # neither shift the world's ids nor change from run to run.
        self.fault_rng = random.Random(f"roamify-faults-{config.seed}")
        self.injected: dict[str, int] = {}  # fault label (or "pending") -> times injected

    def take_fault(self, method: str, path: str) -> Fault | None:
        for f in self.faults:
            if f.method in (method, "*") and f.path in (path, "*"):
                if f.probability is not None and self.fault_rng.random() >= f.probability:
                    continue  # not this time; a later fault in the list may still match
                self.injected[f.label] = self.injected.get(f.label, 0) + 1
                if f.remaining is not None:
                    f.remaining -= 1
                    if f.remaining <= 0:
                        self.faults.remove(f)
                return f
        return None

    def _pending_drawn(self) -> bool:
        """Whether this instant order comes back pending (`instant_pending_rate`, seeded)."""
        rate = self.knobs.instant_pending_rate
        if rate < 1 and self.fault_rng.random() >= rate:
            return False
        if rate < 1:
            self.injected["pending"] = self.injected.get("pending", 0) + 1
        return True
