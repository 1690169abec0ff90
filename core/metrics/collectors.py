"""The figures /metrics serves, read when Prometheus asks (the view is `core.metrics.views`).

Each figure is taken where it is true for the whole shop, however many processes and
machines run it:

- orders by state, payments by provider and status, fulfilment latency (paid → completed) and
  the upstream balance are read from PostgreSQL at scrape time (a few aggregate queries). The
  fulfilment histogram is derived from the orders' `paid_at` and `completed_at`, not observed in
  the worker that completes them: a worker's in-process histogram would be seen only by whoever
  scrapes that worker, and lost when it restarts.
- the Celery queue length is the broker's own list length (Redis LLEN) at scrape time;
- upstream errors are counted in the shared cache (`core.metrics.counters`), from web and workers;
- page cache hits and misses are in-process counters of the web processes, summed across
  gunicorn's workers by prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR).

The first three kinds are the same whichever web instance answers: with several instances,
aggregate them with max(), not sum(). Page cache counters are per host: sum() them.

Other apps' models are read by name (`apps.get_model`): core imports no other app.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from core.roamify_client import upstream_error_kinds

from .counters import upstream_error_counts

# Upper bounds (seconds) of the fulfilment latency buckets: most orders take seconds, a pending
# profile minutes, a retried one up to an hour.
FULFILMENT_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
_DB_CACHE_KEY = "metrics:database"
# kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in lists of their own.
_PRIORITY_SEP = "\x06\x16"


class ShopCollector(Collector):
    """The shop's figures, read when Prometheus asks."""

    def collect(self) -> Iterator:
        yield from self._from_the_database()
        yield self._upstream_errors()
        queue = self._queue_length()
        if queue is not None:
            yield queue

    def _from_the_database(self) -> list:
        """Orders, payments, fulfilment and balance: one reading kept METRICS_DB_CACHE_SECONDS in
        the shared cache, so that several web instances and Prometheus replicas cost one."""
        seconds = settings.METRICS_DB_CACHE_SECONDS
        found = cache.get(_DB_CACHE_KEY) if seconds else None
        if found is None:
            found = [*self._orders(), *self._payments(), self._fulfilment(), *self._balance()]
            if seconds:
                cache.set(_DB_CACHE_KEY, found, seconds)
        return found

    def _orders(self) -> Iterator:
        order = apps.get_model("checkout", "Order")
        counts = dict(order.objects.order_by().values_list("status").annotate(n=Count("id")))
        gauge = GaugeMetricFamily("shop_orders", "Orders by state.", labels=["state"])
        for state, _label in order._meta.get_field("status").choices:
            gauge.add_metric([state], counts.get(state, 0))
        yield gauge

    def _payments(self) -> Iterator:
        payment = apps.get_model("payments", "Payment")
        rows = (
            payment.objects.order_by()
            .values("provider", "status")
            .annotate(n=Count("id"), cents=Sum("amount_cents"), refunded=Sum("refunded_cents"))
        )
        count = GaugeMetricFamily(
            "shop_payments", "Payments by provider and status.", labels=["provider", "status"]
        )
        amount = GaugeMetricFamily(
            "shop_payments_amount_cents", "Amount of those payments, in cents.", labels=["provider", "status"]
        )
        refunded = GaugeMetricFamily(
            "shop_payments_refunded_cents",
            "Amount refunded on them, in cents.",
            labels=["provider", "status"],
        )
        for row in rows:
            labels = [row["provider"], row["status"]]
            count.add_metric(labels, row["n"])
            amount.add_metric(labels, row["cents"] or 0)
            refunded.add_metric(labels, row["refunded"] or 0)
        yield from (count, amount, refunded)

    def _fulfilment(self) -> HistogramMetricFamily:
        order = apps.get_model("checkout", "Order")
        took = ExpressionWrapper(F("completed_at") - F("paid_at"), output_field=DurationField())
        buckets = {
            f"le{b}": Count("id", filter=Q(took__lte=timedelta(seconds=b))) for b in FULFILMENT_BUCKETS
        }
        # Every order that ever completed, refunded later or not: the histogram only grows.
        row = (
            order.objects.filter(paid_at__isnull=False, completed_at__isnull=False)
            .annotate(took=took)
            .aggregate(total=Count("id"), seconds=Sum("took"), **buckets)
        )
        seconds = row["seconds"] or timedelta(0)
        bounds = [(floatToGoString(b), row[f"le{b}"]) for b in FULFILMENT_BUCKETS]
        return HistogramMetricFamily(
            "shop_fulfilment_seconds",
            "Time from payment to a completed order (all orders ever completed).",
            buckets=[*bounds, ("+Inf", row["total"])],
            sum_value=seconds.total_seconds(),
        )

    def _balance(self) -> Iterator:
        balance = apps.get_model("esims", "PartnerBalance").objects.order_by("-checked_at").first()
        if balance is None:
            return
        gauge = GaugeMetricFamily(
            "shop_upstream_balance_cents", "Roamify partner balance, last reading.", labels=["currency"]
        )
        gauge.add_metric([balance.currency], balance.balance_cents)
        yield gauge
        yield GaugeMetricFamily(
            "shop_upstream_balance_checked_timestamp_seconds",
            "When the balance was last read.",
            value=balance.checked_at.timestamp(),
        )

    def _upstream_errors(self) -> CounterMetricFamily:
        counter = CounterMetricFamily(
            "shop_upstream_errors",
            "Calls to Roamify that ended in an error, by error class (after the client's retries).",
            labels=["kind"],
        )
        for kind, n in upstream_error_counts(upstream_error_kinds()).items():
            counter.add_metric([kind], n)
        return counter

    def _queue_length(self) -> GaugeMetricFamily | None:
        if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            return None  # the demo's filesystem broker
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        pipe = _broker(settings.CELERY_BROKER_URL).pipeline(transaction=False)
        for key in (queue, *(f"{queue}{_PRIORITY_SEP}{p}" for p in (3, 6, 9))):
            pipe.llen(key)
        gauge = GaugeMetricFamily(
            "shop_celery_queue_length", "Tasks waiting in the Celery queue.", labels=["queue"]
        )
        gauge.add_metric([queue], sum(pipe.execute()))
        return gauge


@lru_cache(maxsize=2)
def _broker(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class _InProcess(Collector):
    """This process's own metrics (page cache counters, and the process and GC figures)."""

    def collect(self) -> Iterator:
        yield from REGISTRY.collect()


def registry() -> CollectorRegistry:
    """What one scrape reads: the shop's figures and the web processes' own counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ShopCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every gunicorn worker's counters, summed
    else:
        registry.register(_InProcess())
    return registry
