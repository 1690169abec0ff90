"""What the shop counts in the cache (rate limits, upstream errors) keeps the lifetime it was
given on every cache backend: Redis (production), the file cache (the demo) and LocMemCache.

Django's BaseCache.incr, which the file and database caches use, writes the value back with the
default timeout (300 s): an hour's lock would end five minutes after the last guess.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from unittest import mock

import pytest
from django.core.cache import cache

from conftest import need
from core import cache_windows
from core.metrics import counters
from giftcards import ratelimit

pytestmark = pytest.mark.django_db

HOUR = 3600
UPSTREAM_KEY = "metrics:upstream_errors:UpstreamTimeout"
GUESS_KEY = "giftcard-guess:ip:203.0.113.9"


@pytest.fixture(params=["locmem", "file", "redis"])
def backend(request, settings, tmp_path, clear_cache) -> Iterator[str]:
    if request.param == "redis":
        need("redis" in settings.CACHES["default"]["BACKEND"].lower(), "Redis (as the tests' cache)")
    elif request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        backend = "django.core.cache.backends.filebased.FileBasedCache"
        settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path / "cache")}}
    yield request.param
    cache.delete_many(["w", GUESS_KEY, UPSTREAM_KEY])  # Redis is shared with the other tests


@contextlib.contextmanager
def later(backend: str, seconds: float, key: str) -> Iterator[None]:
    """`seconds` from now, as the cache sees it. The in-process caches read the clock, which is
    moved; Redis keeps its own, so the key is removed, as Redis would have, if its time to live
    does not reach that far."""
    if backend == "redis":
        full_key = cache.make_and_validate_key(key)
        ttl = cache._cache.get_client(write=False).ttl(full_key)
        if ttl != -1 and ttl <= seconds:
            cache.delete(key)
        yield
        return
    with mock.patch("time.time", return_value=time.time() + seconds):
        yield


def test_a_code_guessing_lock_lasts_its_whole_window(backend, settings):
    settings.GIFTCARD_GUESS_LIMIT = 3
    settings.GIFTCARD_GUESS_WINDOW_SECONDS = HOUR
    key = GUESS_KEY
    for _ in range(3):
        ratelimit.record_failure("203.0.113.9", None)
    assert ratelimit.blocked("203.0.113.9", None)
    assert not ratelimit.blocked("203.0.113.10", None)
    with later(backend, 400, key):  # past the caches' default timeout
        assert ratelimit.blocked("203.0.113.9", None)
    with later(backend, HOUR - 60, key):
        assert ratelimit.blocked("203.0.113.9", None)
    with later(backend, HOUR + 1, key):
        assert not ratelimit.blocked("203.0.113.9", None)


def test_the_window_starts_at_the_first_hit_and_does_not_slide(backend):
    assert cache_windows.hit("w", HOUR) == 1
    with later(backend, HOUR - 10, "w"):
        assert cache_windows.hit("w", HOUR) == 2  # still the first window
    with later(backend, HOUR + 1, "w"):
        assert cache_windows.counts(["w"]) == {"w": 0}  # it ended an hour after the first hit
        assert cache_windows.hit("w", HOUR) == 1  # a new one
    assert cache_windows.counts(["w", "none"]) == {"w": 1, "none": 0}


def test_upstream_error_counts_never_expire(backend):
    counters.count_upstream_error("UpstreamTimeout")
    counters.count_upstream_error("UpstreamTimeout")
    with later(backend, 400, UPSTREAM_KEY):
        assert counters.upstream_error_counts(["UpstreamTimeout"]) == {"UpstreamTimeout": 2}
    with later(backend, 400 * HOUR, UPSTREAM_KEY):
        counters.count_upstream_error("UpstreamTimeout")
        assert counters.upstream_error_counts(["UpstreamTimeout"]) == {"UpstreamTimeout": 3}
