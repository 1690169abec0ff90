"""A QR code is drawn once for the eSIM email and the pages that show it (esims.qr)."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
import qrcode

from esims.emails import install_email
from esims.models import Esim
from esims.qr import qr_data_uri

pytestmark = pytest.mark.usefixtures("clear_cache")


def test_the_email_and_the_order_page_draw_the_qr_code_once():
    esim = Esim(pk=1, iccid="8944000000000000001", lpa_code=f"LPA:1$smdp.example${uuid.uuid4().hex}")
    context = {"order": {"number": "A-1"}, "order_url": "https://shop.example/o", "help_url": "https://x"}
    draw = qrcode.QRCode.make_image
    with mock.patch.object(qrcode.QRCode, "make_image", autospec=True, side_effect=draw) as drawn:
        email = install_email([esim], "traveller@example.com", "Your eSIM is ready", context)
        page = qr_data_uri(esim.lpa_code)  # the order page, then the account's eSIM page
        assert qr_data_uri(esim.lpa_code) == page
    assert drawn.call_count == 1
    (image,) = [part for part in email.message().walk() if part.get_content_type() == "image/png"]
    assert page.endswith(image.get_payload().replace("\n", ""))  # the same PNG
