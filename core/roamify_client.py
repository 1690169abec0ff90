"""The shop's one Roamify client, built from settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from roamify import RoamifyClient
from roamify import RoamifyError as UpstreamError  # for apps that call upstream only through others

from .metrics.counters import count_upstream_error

__all__ = ["UpstreamError", "roamify_client", "upstream_error_kinds"]


class _CountingClient(RoamifyClient):
    """Counts each error a call ends with (after the client's own retries), by its class."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().request(*args, **kwargs)
        except UpstreamError as exc:
            count_upstream_error(type(exc).__name__)
            raise


def upstream_error_kinds() -> list[str]:
    """Every error class the client raises, by name (the `kind` label of the error counter)."""
    kinds, todo = [], [UpstreamError]
    while todo:
        cls = todo.pop()
        kinds.append(cls.__name__)
        todo.extend(cls.__subclasses__())
    return sorted(set(kinds))


@lru_cache(maxsize=4)
def _client(
    base_url: str, token: str, timeout: float, instant_timeout: float, backoff: float
) -> RoamifyClient:
    return _CountingClient(
        base_url=base_url,
        token=token,
        timeout=timeout,
        instant_order_timeout=instant_timeout,
        backoff_base=backoff,
    )


def roamify_client() -> RoamifyClient:
    # Keyed by settings so tests that override them get a matching client.
    return _client(
        settings.ROAMIFY_BASE_URL,
        settings.ROAMIFY_API_TOKEN,
        settings.ROAMIFY_TIMEOUT,
        settings.ROAMIFY_INSTANT_ORDER_TIMEOUT,
        settings.ROAMIFY_RETRY_BACKOFF,
    )
