"""QR codes of eSIM activation strings, made here (never hot-linked from upstream).

Drawing one costs more CPU than the rest of the eSIM email or page (about 4 ms, most of it
qrcode choosing its mask): each is drawn once and kept in the shared cache for a day, so the
eSIM email, the order page and the account's eSIM pages share it.
"""

from __future__ import annotations

import base64
import hashlib
import io

import qrcode
from django.core.cache import cache
from qrcode.constants import ERROR_CORRECT_M

KEPT_SECONDS = 86400


def qr_png(text: str, box_size: int = 8) -> bytes:
    key = f"esims:qr:{box_size}:{hashlib.sha256(text.encode()).hexdigest()}"
    png = cache.get(key)
    if png is None:
        png = _draw(text, box_size)
        cache.set(key, png, KEPT_SECONDS)
    return png


def _draw(text: str, box_size: int) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=3)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode()
