"""The sandbox's mutable world, one resource a module, composed here into `World`:

- `orders.Orders`: orders, top-ups, apply, the ledger;
- `usage.Usage`: an eSIM in use (install, activate, consume data, expire, revoke) and its usage;
- `esims.Esims`: eSIMs, their profiles, events and links;
- `refunds.Refunds`: refund requests and support's decisions;
- `balance.Balance`: the partner balance;
- `rates.Rates`: the supported currencies and their exchange rates;
- `faults.Faults`: injected faults;
- `webhook_events.WebhookEvents`: the webhooks sent;
- `base.WorldBase`: configuration, knobs, catalog, clock and seeded ids.

Each class builds on those it uses (Refunds on Orders; Orders on Usage, Balance and Faults; Usage
on Esims; Esims and Balance on WebhookEvents; all on WorldBase), so a module's bases say what it
relies on. Each sets up its own part in `__init__`.

Pure Python with no I/O so it can be unit tested directly. Every public mutator validates
everything first and only then changes state, so a rejected call leaves no trace. Time-driven
transitions (pending profiles, slow instant orders, expiry) are evaluated lazily by `tick()`.
"""

from __future__ import annotations

from .balance import Balance
from .config import Config
from .esims import Esims
from .faults import Faults
from .orders import Orders
from .rates import Rates
from .refunds import Refunds
from .usage import Usage
from .webhook_events import EmitFn


class World(Refunds, Orders, Usage, Esims, Balance, Faults, Rates):
    """All mutable sandbox state. Replace the whole object to reset."""

    def __init__(self, config: Config, emit: EmitFn | None = None) -> None:
        super().__init__(config)  # each resource sets up its own part
        self.emit_fn = emit

    # -- time-driven transitions -----------------------------------------------
    def tick(self) -> None:
        now_f = self.now_f()
        now = int(now_f)
        for e in self.esims.values():
            if e.status == "NEW" and e.pending_until is not None and now_f >= e.pending_until:
                self._make_ready(e)
            elif e.status in ("READY", "INSTALLED") and e.expired_at <= now:
                self._set_expired(e)
        for o in self.orders:
            if o.status == "PENDING" and all(self.esims[i.esim_id].status != "NEW" for i in o.items):
                o.status = "COMPLETED"
                o.updated_at = now
                for i in o.items:
                    i.updated_at = now
