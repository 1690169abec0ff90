"""What every resource of the world shares: configuration and knobs, the catalog, the sandbox
clock (real time plus an offset the control API moves forward) and the seeded ids."""

from __future__ import annotations

import random
import string
import time
import uuid
from datetime import UTC, datetime

from . import catalog as catalog_mod
from .catalog import Catalog
from .config import Config, Knobs

DAY = 86_400


class WorldBase:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.base_url = config.base_url
        self.catalog: Catalog = catalog_mod.build(config.seed, self.base_url).copy()
        self.knobs = Knobs.from_config(config)
        self.token = config.token
        self.clock_offset = 0.0
        # String seeds hash via sha512, so ids are stable across processes.
        self.rng = random.Random(f"roamify-state-{config.seed}")

    def now_f(self) -> float:
        return time.time() + self.clock_offset

    def now(self) -> int:
        return int(self.now_f())

    def today(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%d")

    def advance(self, seconds: float) -> int:
        self.clock_offset += seconds
        self.tick()
        return self.now()

    def tick(self) -> None:
        """Run the time-driven transitions that are due. `World` defines them: they span resources."""
        raise NotImplementedError

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))
