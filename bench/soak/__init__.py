"""Soak with faults: shoppers buy for minutes while upstream, webhooks, workers and the web fail.

    python -m bench.soak [--shoppers 50] [--minutes 10] [--seed 1]   (or: make bench-soak)
    python -m bench.soak --short                                      (in `make test`: tests/test_soak.py)

Run from the project root. Everything runs on 127.0.0.1 and stops by itself:

1. The world (`world.py`): a fresh PostgreSQL database `soak_<pid>` (dropped at the end), Redis DB 12
   with a queue and key prefix of the run's own, the Roamify sandbox and the Stripe sandbox. The
   catalog is synced from the sandbox once, before any fault. The shop as in production (DEBUG off):
   gunicorn, two Celery workers (thread pools, like docker-compose's) and Celery beat (the order
   reconciler every few seconds, gift cards due). Timeouts and intervals are scaled down so that a
   minute holds what an hour would.
2. The shoppers (`shoppers.py`): N of them (asyncio + httpx, each with its own cookies) loop until the
   time is up: home → destination → package → cart → checkout → the Stripe sandbox's hosted card page
   (4242) → back to the order page, polled until the eSIM shows. Some buy gift cards instead; some pay
   with a code bought earlier in the run (its email is read from the outbox), fully or in part; some
   sign up with the email they bought with (verifying it through the emailed link) and top up an eSIM
   bought earlier.
3. Faults all the while (`faults.py`): the Roamify sandbox answers 5 % of calls with a 500 (half of
   them after doing the work) and 2 % with a hang longer than the shop's timeout (the work done), and
   5 % of instant orders come back pending; the Stripe sandbox delivers every webhook twice, each copy
   after a random delay (so out of order); a Celery worker is SIGKILLed and restarted every minute
   (every ~10 s in short mode); the web server is SIGKILLed and restarted once, mid-run. Shoppers
   retry connection errors (counted, not 500s). Every fault is one the shop must get over by itself:
   none is meant to leave an order needing staff or refunded.
4. The books (`books.py`), once the queue has drained (bounded): every paid order is completed (one
   that needs action is a failure, listed with its reason and last timeline events), at least one
   order completed, and every session Stripe took money for has its order paid; no upstream order or
   top-up was placed twice for one reference; every gift card's balance is the sum of its ledger;
   every captured payment belongs to exactly one order; no page answered 5xx.

Prints orders per minute, p50/p99 page times, the faults injected by kind and the checks; writes
bench/results/soak-<timestamp>.json; exits 1 when a check fails.
"""
