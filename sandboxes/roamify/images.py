"""PNGs the sandbox serves itself, so nothing in a test run leaves the machine."""

from __future__ import annotations

import io
import zlib
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw


@lru_cache(maxsize=512)
def qr_png(data: str) -> bytes:
    img = qrcode.make(data, box_size=6, border=4)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=512)
def flag_png(slug: str) -> bytes:
    """Three stripes in colours derived from the slug (crc32: stable, unlike hash())."""
    seed = zlib.crc32(slug.encode())
    colours = [((seed >> s) & 0xFF, (seed >> (s + 5)) & 0xFF, (seed >> (s + 11)) & 0xFF) for s in (0, 7, 14)]
    img = Image.new("RGB", (60, 40))
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate(colours):
        draw.rectangle((0, i * 40 // 3, 59, (i + 1) * 40 // 3), fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
