"""The shop's one Roamify client, built from settings."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from roamify import RoamifyClient


@lru_cache(maxsize=1)
def _client(base_url: str, token: str) -> RoamifyClient:
    return RoamifyClient(base_url=base_url, token=token)


def roamify_client() -> RoamifyClient:
    # Keyed by settings so tests that override them get a matching client.
    return _client(settings.ROAMIFY_BASE_URL, settings.ROAMIFY_API_TOKEN)
