"""Joi-style request validation: the first failure wins, worded as Joi words it.

Like Joi's defaults, numeric strings convert to numbers and unknown keys are not
checked here (the spec does not say the real API rejects them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from multidict import MultiMapping

from .errors import joi

_MISSING = object()
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")


def _to_number(label: str, value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise joi(f'"{label}" must be a number')
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip()) if str(value).strip() else math.nan
        except ValueError:
            number = math.nan
    if not math.isfinite(number):
        raise joi(f'"{label}" must be a number')
    return number


def _check_int(label: str, number: float, minimum: float | None) -> int:
    if not number.is_integer():
        raise joi(f'"{label}" must be an integer')
    if minimum is not None and number < minimum:
        raise joi(f'"{label}" must be greater than or equal to {int(minimum)}')
    return int(number)


# -- query strings --------------------------------------------------------------


def _one(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:  # Express turns repeats into an array, which Joi then rejects
        raise joi(f'"{name}" must be a string')
    return values[0]


def q_string(query: MultiMapping[str], name: str) -> str | None:
    value = _one(query, name)
    if value == "":
        raise joi(f'"{name}" is not allowed to be empty')
    return value


def q_number(query: MultiMapping[str], name: str) -> float | None:
    value = _one(query, name)
    return None if value is None else _to_number(name, value)


def q_int(query: MultiMapping[str], name: str, minimum: int = 1) -> int | None:
    number = q_number(query, name)
    return None if number is None else _check_int(name, number, minimum)


def q_bool(query: MultiMapping[str], name: str) -> bool | None:
    value = _one(query, name)
    if value is None:
        return None
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise joi(f'"{name}" must be a boolean')


def q_enum(query: MultiMapping[str], name: str, allowed: Sequence[str]) -> str | None:
    value = q_string(query, name)
    if value is not None and value not in allowed:
        raise joi(f'"{name}" must be one of [{", ".join(allowed)}]')
    return value


def q_xor(query: MultiMapping[str], a: str, b: str) -> tuple[str | None, str | None]:
    va, vb = q_string(query, a), q_string(query, b)
    if va is None and vb is None:
        raise joi(f'"value" must contain at least one of [{a}, {b}]')
    if va is not None and vb is not None:
        raise joi(f'"value" contains a conflict between exclusive peers [{a}, {b}]')
    return va, vb


# -- JSON bodies -----------------------------------------------------------------


def b_object(body: Any, label: str = "value") -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise joi(f'"{label}" must be of type object')
    return body


def b_string(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool,
    label: str | None = None,
    allowed: Sequence[str] | None = None,
) -> str | None:
    label = label or name
    value = body.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise joi(f'"{label}" is required')
        return None
    if not isinstance(value, str):
        raise joi(f'"{label}" must be a string')
    if value == "":
        raise joi(f'"{label}" is not allowed to be empty')
    if allowed is not None and value not in allowed:
        raise joi(f'"{label}" must be one of [{", ".join(allowed)}]')
    return value


def b_number(body: Mapping[str, Any], name: str, *, required: bool, label: str | None = None) -> float | None:
    label = label or name
    value = body.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise joi(f'"{label}" is required')
        return None
    return _to_number(label, value)


def b_date(body: Mapping[str, Any], name: str) -> str | None:
    value = b_string(body, name, required=False)
    if value is None:
        return None
    try:
        if not _ISO_DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise joi(f'"{name}" must be in ISO 8601 date format') from None


def order_body(body: Any, *, with_start_date: bool) -> tuple[list[tuple[str, int]], str | None, str | None]:
    """`items[{packageId, quantity}]`, optional `referenceId` (and `startDate` on instant)."""
    obj = b_object(body)
    items = obj.get("items", _MISSING)
    if items is _MISSING:
        raise joi('"items" is required')
    if not isinstance(items, list):
        raise joi('"items" must be an array')
    if not items:
        raise joi('"items" must contain at least 1 items')
    lines: list[tuple[str, int]] = []
    for i, item in enumerate(items):
        label = f"items[{i}]"
        item_obj = b_object(item, label)
        pid = b_string(item_obj, "packageId", required=True, label=f"{label}.packageId")
        qty = b_number(item_obj, "quantity", required=True, label=f"{label}.quantity")
        assert pid is not None and qty is not None
        lines.append((pid, _check_int(f"{label}.quantity", qty, 1)))
    reference_id = b_string(obj, "referenceId", required=False)
    start_date = b_date(obj, "startDate") if with_start_date else None
    return lines, reference_id, start_date


def topup_body(body: Any) -> tuple[str, str, str | None]:
    obj = b_object(body)
    iccid = b_string(obj, "iccid", required=True)
    package_id = b_string(obj, "packageId", required=True)
    reference_id = b_string(obj, "referenceId", required=False)
    assert iccid is not None and package_id is not None
    return iccid, package_id, reference_id


def apply_body(body: Any) -> tuple[str | None, str | None, str | None]:
    obj = b_object(body)
    esim_id = b_string(obj, "esimId", required=False)
    reference_id = b_string(obj, "referenceId", required=False)
    if esim_id is None and reference_id is None:
        raise joi('"value" must contain at least one of [esimId, referenceId]')
    return esim_id, reference_id, b_date(obj, "startDate")
