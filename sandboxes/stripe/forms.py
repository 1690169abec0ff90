"""Stripe's form encoding (`a[b][0][c]=x`) to nested dicts/lists and back.

Our own code, written from the wire format stripe-python produces: we may not
import localstripe's parser (GPL), and we need the reverse direction too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    """A key that is not valid bracket notation."""


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn flat `a[b][0]=v` pairs into nested dicts; numeric/`[]` levels become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        m = _KEY.match(key)
        if not m:
            raise FormError(f"Invalid parameter name: {key}")
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            if part == "":
                part = str(len(node))  # `x[]=a&x[]=b`: each value gets the next index
            if i == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise FormError(f"Invalid parameter name: {key}")
                node[part] = value
                break
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise FormError(f"Invalid parameter name: {key}")
            node = nxt
    return _listify(root)


def _listify(node: Any) -> Any:
    # A dict keyed exactly 0..n-1 is a list in Stripe's encoding; sparse
    # numeric keys (say `metadata[5]`) stay a dict.
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        ordered = sorted(items, key=int)
        if [int(k) for k in ordered] == list(range(len(ordered))):
            return [items[k] for k in ordered]
    return items


def parse_query(query: str) -> dict[str, Any]:
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Form or JSON body to nested params (localstripe accepts both, so do we)."""
    if not body.strip():
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(body)
        if not isinstance(data, dict):
            raise FormError("The request body must be an object")
        return data
    return parse_pairs(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def encode(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Nested params back to Stripe's flat form pairs."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif value is None:
            return
        elif isinstance(value, bool):
            out.append((prefix, "true" if value else "false"))
        else:
            out.append((prefix, str(value)))

    walk("", params)
    return out


def canonical(params: dict[str, Any]) -> str:
    """A stable fingerprint of params, for idempotency comparisons."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
