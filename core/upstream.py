"""The shop's one Roamify client, built from settings."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from roamify import RoamifyClient
from roamify import RoamifyError as UpstreamError  # for apps that call upstream only through others

__all__ = ["UpstreamError", "roamify_client"]


@lru_cache(maxsize=4)
def _client(base_url: str, token: str, timeout: float, instant_timeout: float,
            backoff: float) -> RoamifyClient:
    return RoamifyClient(base_url=base_url, token=token, timeout=timeout,
                         instant_order_timeout=instant_timeout, backoff_base=backoff)


def roamify_client() -> RoamifyClient:
    # Keyed by settings so tests that override them get a matching client.
    return _client(settings.ROAMIFY_BASE_URL, settings.ROAMIFY_API_TOKEN, settings.ROAMIFY_TIMEOUT,
                   settings.ROAMIFY_INSTANT_ORDER_TIMEOUT, settings.ROAMIFY_RETRY_BACKOFF)
