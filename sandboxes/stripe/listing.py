"""Stripe list objects with `limit`, `starting_after` and `ending_before`."""

from __future__ import annotations

from typing import Any

from .errors import StripeError


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """`items` newest first, as Stripe lists them."""
    raw_limit = params.get("limit", 10)
    try:
        limit = int(raw_limit)
    except (TypeError, ValueError):
        raise StripeError(
            f"Invalid integer: {raw_limit}", param="limit", code="parameter_invalid_integer"
        ) from None
    if not 1 <= limit <= 100:
        raise StripeError(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            param="limit",
        )
    ids = [i["id"] for i in items]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after:
        if after not in ids:
            raise StripeError(f"No such object: '{after}'", param="starting_after", status=404)
        start = ids.index(after) + 1
        page = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        if before not in ids:
            raise StripeError(f"No such object: '{before}'", param="ending_before", status=404)
        end = ids.index(before)
        page = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = items[:limit]
        has_more = len(items) > limit
    return {"object": "list", "data": page, "has_more": has_more, "url": url}
