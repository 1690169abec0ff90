"""The faults done to the shop while the shoppers shop, and how each is meant to end.

Every one of them is a fault the shop must get over by itself, so each is meant to end in a
completed order:

- Roamify answers a call with a 500 (before or after doing the work) or hangs past the shop's
  timeout (after doing the work): fulfilment retries with backoff (FULFILMENT_MAX_RETRIES, 8, from
  1 s here: minutes of retries against faults that hit a few calls in a hundred) and, from the second
  attempt, asks upstream for the order by its reference before placing another.
- An instant order comes back pending for 5 s: fulfilment retries until the profile is ready.
- Every Stripe webhook comes twice, out of order: the shop records a payment once.
- A worker is SIGKILLed mid-task: its lease runs out and the reconciler queues the order again, and
  the emails it held are sent by the next claim.
- The web server is SIGKILLed: shoppers retry connection errors; a payment page it was opening is
  opened again when the customer presses Pay.

None is meant to leave an order needing staff (requires_action) or to refund it
(AUTO_REFUND_FAILED_FULFILMENT stays off and nobody refunds): the books (books.py) count any paid
order that did not complete as a failure.
"""

from __future__ import annotations

import threading

from bench._common import log

from .world import World


def start_sandbox_faults(roamify, stripe, seed: int) -> None:
    c = roamify.control
    # Hung calls do the work first, like a slow upstream that answers after the shop gave up.
    c.inject_fault("*", "*", count=None, status=500, probability=0.025, name="500")
    c.inject_fault(
        "*", "*", count=None, status=500, hang_seconds=0.01, probability=0.025, name="500 after work"
    )
    c.inject_fault("*", "*", count=None, hang_seconds=6, probability=0.02, name="timeout")
    c.set_knobs(instant_pending_seconds=5, instant_pending_rate=0.05)
    stripe.control.webhook_chaos(copies=2, max_delay=3, seed=seed)


def stop_sandbox_faults(roamify) -> None:
    roamify.control.clear_faults()
    roamify.control.set_knobs(instant_pending_rate=1.0, instant_pending_seconds=0)


class ProcessFaults:
    """Crashes of the world's processes, from threads of their own: worker A SIGKILLed and started
    again every interval, gunicorn SIGKILLed and started again once, at a share of the run."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.kills = 0
        self.web_restarts = 0
        self.errors: list[str] = []  # a restart that failed: reported with the results, not lost
        self._stop = threading.Event()
        profile = world.profile
        self._threads = [
            threading.Thread(target=self._kill_workers, daemon=True),
            threading.Thread(
                target=self._restart_web_once, args=(profile.seconds * profile.web_restart_at,), daemon=True
            ),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(90)

    def _kill_workers(self) -> None:
        """Every interval: SIGKILL worker A (whatever it was doing is lost) and start it again."""
        while not self._stop.wait(self.world.profile.worker_kill_every):
            try:
                self.world.workers["worker-a"].kill()
                self.kills += 1
                log(f"SIGKILLed worker-a ({self.kills}); restarting it")
                self.world.start_worker("worker-a")
            except Exception as exc:
                self.errors.append(f"worker restart: {exc}")

    def _restart_web_once(self, at: float) -> None:
        if self._stop.wait(at):
            return
        try:
            assert self.world.web is not None
            self.world.web.kill()
            log("SIGKILLed gunicorn; restarting it")
            self.world.start_web()
            self.web_restarts += 1
        except Exception as exc:
            self.errors.append(f"web restart: {exc}")
