"""Counters the apps move as things happen; /metrics (`core.metrics.collectors`) reads them.

Two kinds, chosen by where the events happen:

- Page cache hits and misses happen in web processes only, many times a second: an in-process
  prometheus_client counter, shared between gunicorn's worker processes by its multiprocess
  mode (PROMETHEUS_MULTIPROC_DIR). Each web host answers for its own processes.
- Upstream errors happen in web and worker processes alike, on any machine, and are rare: each
  one is an INCR in the shared cache (Redis), so any web process answers for all of them.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter

from core import cache_windows

logger = logging.getLogger(__name__)

PAGE_CACHE = Counter(
    "shop_page_cache_requests", "Anonymous catalog page cache lookups by result (hit, miss).", ["result"]
)
PAGE_CACHE_HIT = PAGE_CACHE.labels("hit")
PAGE_CACHE_MISS = PAGE_CACHE.labels("miss")

_UPSTREAM_KEY = "metrics:upstream_errors:"


def count_upstream_error(kind: str) -> None:
    """One more upstream error of this kind (the error class), for every process to see."""
    try:
        cache_windows.hit(_UPSTREAM_KEY + kind, None)  # never expires, on any cache backend
    except Exception:  # a metric never breaks the work it counts
        logger.warning("could not count an upstream %s", kind, exc_info=True)


def upstream_error_counts(kinds: list[str]) -> dict[str, int]:
    found = cache_windows.counts([_UPSTREAM_KEY + kind for kind in kinds])
    return {kind: found[_UPSTREAM_KEY + kind] for kind in kinds}
