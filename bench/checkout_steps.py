"""What placing an order waits on: each step of it timed alone, one customer at a time.

Used by bench/checkout_bench.py (`--steps N`). Two measurements, both the median of N repetitions:

- Over HTTP, against the shop's gunicorn: `POST /cart/add/`, `GET /cart/`, `POST /checkout/` and
  the Stripe sandbox's hosted page, each followed by a GET of the bare view (bench/bare_settings.py,
  a gunicorn of its own), so that every step has a measurement of the same moments beside it: on a
  shared machine the load swings within seconds, and a step's ratio to the bare view swings less
  than its milliseconds do.
- In this process (Django's test client, the same database, Redis and Stripe sandbox): the parts of
  `POST /checkout/` — the cart priced, the order and its lines written, the customer row, gift card
  holds, the payment row, the Stripe Checkout Session, the session saved — each timed by wrapping
  the function that does it. Every other repetition pays part with a gift card, so holds are timed.
"""

from __future__ import annotations

import contextlib
import statistics
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from importlib import import_module

from bench._common import CSRF_INPUT, tls

HTTP_STEPS = ("cart add", "cart page", "POST /checkout/", "hosted page")

# label: (where the function lives, its name). Nested labels are included in the ones above them.
PARTS: dict[str, tuple[str, str]] = {
    "cart priced (catalog read)": ("checkout.cart", "priced"),
    "place_order": ("checkout.services", "place_order"),
    "  top-up checks (upstream)": ("checkout.services.ordering", "_check_topups"),
    "  order, lines, event (DB)": ("checkout.services.ordering", "_create"),
    "    customer row": ("checkout.services.ordering", "remember_customer"),
    "  gift card holds": ("checkout.services.ordering", "_reserve_gift_cards"),
    "start_payment": ("checkout.services", "start_payment"),
    "  payment rows opened": ("payments.services", "open_payment"),
    "  Stripe: create Checkout Session": (
        "payments.providers.stripe_api.StripeGateway",
        "create_checkout_session",
    ),
    "  payment-started event": ("checkout.services.payment", "log_event"),
    "session saved (DB)": ("django.contrib.sessions.backends.db.SessionStore", "save"),
}


def _owner(path: str):
    """A module, or a class inside one ('pkg.module.Class')."""
    with contextlib.suppress(ModuleNotFoundError):
        return import_module(path)
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


@contextlib.contextmanager
def timed_parts(totals: dict[str, float]) -> Iterator[None]:
    """While inside, every call of a PARTS function adds its seconds to totals[label]."""
    patched = []

    def wrap(label: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - started

        return timed

    try:
        for label, (where, name) in PARTS.items():
            owner = _owner(where)
            original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            patched.append((owner, name, original))
            setattr(owner, name, wrap(label, original))
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1) if values else 0.0


def http_steps(site: str, bare_url: str, package_ids: list[str], n: int) -> dict:
    """Median ms of each step of placing an order over HTTP, and of the bare view beside it."""
    import httpx

    samples: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(timeout=30, verify=tls()) as bare:

        def step(name: str, client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
            started = time.perf_counter()
            response = client.request(method, url, **kwargs)
            samples[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            bare.get(bare_url).raise_for_status()
            samples["bare view"].append(time.perf_counter() - started)
            return response

        for i in range(n):
            with httpx.Client(base_url=site, timeout=30, verify=tls()) as client:
                package = package_ids[i % len(package_ids)]
                r = step("cart add", client, "POST", "/cart/add/", data={"package": package, "quantity": "1"})
                assert r.status_code == 302, f"cart add answered {r.status_code}"
                cart = step("cart page", client, "GET", "/cart/")
                token = CSRF_INPUT.search(cart.text)
                assert token, f"no checkout form on the cart page: {cart.status_code}"
                data = {"email": f"steps{i}@example.com", "csrfmiddlewaretoken": token.group(1)}
                r = step("POST /checkout/", client, "POST", "/checkout/", data=data)
                assert r.status_code == 302, f"POST /checkout/ answered {r.status_code}: {r.text[:300]}"
                hosted = r.headers["location"]
                page = step("hosted page", client, "GET", hosted)
                assert page.status_code == 200 and "Pay with card" in page.text, hosted
    bare_ms = median_ms(samples["bare view"])
    return {
        "repetitions": n,
        "bare_ms": bare_ms,
        "steps": {
            name: {
                "ms": median_ms(samples[name]),
                "vs_bare": round(median_ms(samples[name]) / bare_ms, 1) if bare_ms else None,
            }
            for name in HTTP_STEPS
        },
    }


def in_process_parts(package_ids: list[str], n: int) -> dict:
    """Median ms of each part of POST /checkout/, timed in this process through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from giftcards.services import issue

    # The bench runs without collected static files; whitenoise says so once per handler.
    warnings.filterwarnings("ignore", message="No directory at")
    per_request: list[dict[str, float]] = []
    queries: list[int] = []
    for i in range(n):
        client = Client(HTTP_HOST="127.0.0.1")
        client.post("/cart/add/", {"package": package_ids[i % len(package_ids)], "quantity": "1"})
        if i % 2:  # every other order pays 5.00 of it with a gift card: its hold is timed too
            _card, code = issue(500, actor="bench")
            client.post("/cart/gift-code/", {"code": code})
        totals: dict[str, float] = defaultdict(float)
        with timed_parts(totals), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            r = client.post("/checkout/", {"email": f"parts{i}@example.com"})
            totals["POST /checkout/ (whole view, in process)"] = time.perf_counter() - started
        assert r.status_code == 302, f"POST /checkout/ answered {r.status_code}"
        per_request.append(totals)
        queries.append(len(captured))
    labels = ["POST /checkout/ (whole view, in process)", *PARTS]
    parts = {label: median_ms([t.get(label, 0.0) for t in per_request]) for label in labels}
    with_cards = [t for j, t in enumerate(per_request) if j % 2]
    parts["  gift card holds"] = median_ms([t.get("  gift card holds", 0.0) for t in with_cards])
    return {"repetitions": n, "queries_median": statistics.median(queries), "parts_ms": parts}


def report(steps: dict) -> None:
    http, parts = steps["http"], steps["in_process"]
    print(
        f"\nPlacing one order, one customer at a time: median of {http['repetitions']} "
        f"(bare view beside each step: {http['bare_ms']:.1f} ms)"
    )
    for name, row in http["steps"].items():
        print(f"  {name:<46} {row['ms']:>8.1f} ms {row['vs_bare']:>6} x bare")
    total = sum(row["ms"] for row in http["steps"].values())
    print(f"  {'the whole step (sum)':<46} {total:>8.1f} ms")
    print(
        f"\nPOST /checkout/ in this process, part by part: median of {parts['repetitions']} "
        f"({parts['queries_median']:.0f} SQL queries); nested parts are included in the one above"
    )
    for label, ms in parts["parts_ms"].items():
        print(f"  {label:<46} {ms:>8.1f} ms")
