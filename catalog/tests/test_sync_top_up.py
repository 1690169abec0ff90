"""The sync learns top_up_capable from upstream: the eSIMs it delivered say withTopUp."""

from __future__ import annotations

import pytest

from catalog.services import _sync_top_up_capable
from checkout.tests.conftest import make_package
from core.roamify_client import roamify_client

pytestmark = pytest.mark.django_db


def test_top_up_capable_follows_upstreams_esims(roamify):
    special = roamify.control._call("GET", "/catalog/special")
    no_topup = make_package(package_id=special["noTopUp"][0])
    normal = make_package()
    assert no_topup.top_up_capable and normal.top_up_capable  # the default before any sale
    client = roamify_client()
    for package in (no_topup, normal):
        client.create_instant_order([(package.package_id, 1)], reference_id=f"T-{package.pk}")
    assert _sync_top_up_capable(client) == 1
    no_topup.refresh_from_db()
    normal.refresh_from_db()
    assert not no_topup.top_up_capable and normal.top_up_capable
    assert _sync_top_up_capable(client) == 0  # nothing changes twice
