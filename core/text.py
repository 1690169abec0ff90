"""Checks on text from outside before it reaches the database."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _


def _strings(value: object) -> Iterator[str]:
    """Every string in a value: itself, or the keys and values of decoded JSON at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def has_nul(value: object) -> bool:
    """Whether a decoded JSON value holds a NUL character anywhere (a key or a string, at any depth).

    PostgreSQL stores no NUL in text or jsonb: such a value would fail at the INSERT as a 500.
    Nothing real sends one, so the caller answers it as malformed instead.
    """
    return any("\x00" in text for text in _strings(value))


# Control characters: C0 (with NUL), DEL and C1. Text of several lines keeps tab, newline and CR.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character in text, or None. The one rule for text typed into the shop
    (every form field: core/forms.py; the JSON API: giftcards/schemas.py): PostgreSQL cannot store
    NUL, and the others are nothing a person types, only trouble in emails, logs and CSV exports."""
    found = (_CONTROL_IN_LINES if multiline else _CONTROL).search(text)
    return found.group() if found else None


def plain_text(value: str, max_length: int) -> str:
    """Text from outside that nobody typed into a form (a URL's parameters, a header), made safe to
    keep: control characters dropped (the rule of `control_character`), surrounding space trimmed,
    cut to `max_length`. Where a form refuses such text, this keeps what is left of it."""
    return _CONTROL.sub("", value).strip()[:max_length]


def control_character_message(char: str) -> str:
    # Translators: %(code)s is a Unicode code point such as U+0007.
    return _("Remove the invisible control character (%(code)s) from this text.") % {
        "code": f"U+{ord(char):04X}"
    }


@deconstructible
class PlainTextValidator:
    """A form field's (or any Django validator list's) use of control_character()."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: object) -> None:
        for text in _strings(value):
            char = control_character(text, multiline=self.multiline)
            if char is not None:
                raise ValidationError(control_character_message(char), code="control_character")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline
