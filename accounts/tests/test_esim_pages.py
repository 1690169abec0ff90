"""The eSIM list and page against the Roamify sandbox: usage, chart, projection, history,
top-ups; the cache (warm: no upstream call, pinned queries; stale: served while refreshed)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from esims import cached
from esims import services as esim_services

from .conftest import bought_esim, make_package

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(roamify, alice, clear_cache, client):
    package = make_package()
    order, esim = bought_esim(package, alice)
    client.force_login(alice)
    return package, order, esim


def no_upstream():
    return mock.patch("esims.services.roamify_client", side_effect=AssertionError("upstream was called"))


def test_list_shows_destination_status_data_left_and_days(setup, client, roamify):
    package, _, esim = setup
    roamify.control.esim_action(esim.iccid, "consume", mb=100)
    html = client.get(reverse("accounts:esim_list")).content.decode()
    assert package.destination.name in html
    assert "Installed" in html
    assert 'role="meter"' in html and "left" in html
    assert re.search(r"\d+ days? left", html)
    assert esim.iccid not in html and esim.iccid[-4:] in html  # masked on the list


def test_esim_page_has_install_usage_chart_projection_history_and_topups(setup, client, roamify):
    package, _, esim = setup
    today = roamify.control.now()
    day = dt.datetime.fromtimestamp(today, tz=dt.UTC).date()
    for back, mb in ((2, 150), (1, 250), (0, 200)):
        roamify.control.esim_action(esim.iccid, "consume", mb=mb, date=str(day - dt.timedelta(days=back)))
    topup = make_package(package_id=_other_package_of(roamify, esim, package))
    response = client.get(reverse("accounts:esim_detail", args=[esim.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data:image/png;base64," in html and esim.ios_install_url.replace("&", "&amp;") in html
    assert esim.activation_code in html and esim.smdp_address in html
    assert "<svg" in html and "<rect" in html and "Data used per day" in html
    assert "recent pace" in html
    assert package.name in html or "Original plan" in html  # packages history
    assert topup.data_label in html and "Add to cart" in html
    assert response.headers["Cache-Control"] == "private, no-store"


def _other_package_of(roamify, esim, package) -> str:
    from core.roamify_client import roamify_client

    ids = [p.package_id for p in roamify_client().topup_packages(esim.iccid)]
    return next(i for i in ids if i != package.package_id)


def test_warm_cache_no_upstream_call_and_pinned_queries(setup, client, django_assert_num_queries):
    _, _, esim = setup
    client.get(reverse("accounts:esim_list"))
    client.get(reverse("accounts:esim_detail", args=[esim.pk]))  # warms usage, history and top-ups
    with no_upstream():
        # session, user, eSIMs, their eSIM lines with package and destination
        with django_assert_num_queries(4):
            assert client.get(reverse("accounts:esim_list")).status_code == 200
        # session, user, the eSIM, its lines, the top-up packages of the catalog, its automatic
        # top-up, the saved cards (read twice: by the one-tap form and the automatic top-up's)
        with django_assert_num_queries(8):
            assert client.get(reverse("accounts:esim_detail", args=[esim.pk])).status_code == 200


def test_stale_usage_is_served_while_one_refresh_is_queued(setup, client, roamify):
    _, _, esim = setup
    client.get(reverse("accounts:esim_detail", args=[esim.pk]))
    then = timezone.now() - dt.timedelta(minutes=10)
    stale = replace(cached.get(esim.pk, cached.USAGE).value, fetched_at=then)
    cached.store(esim.pk, cached.USAGE, stale, then)
    roamify.control.esim_action(esim.iccid, "consume", mb=300)
    with no_upstream(), mock.patch("esims.cached.after_commit") as queued:
        html = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
        client.get(reverse("accounts:esim_list"))
    assert queued.call_args_list == [mock.call("esims.refresh_upstream", esim.pk, "usage")]  # once
    assert "Read from the network 10 min ago" in html  # the stale figures, said to be stale
    esim_services.refresh_in_background(esim.pk, "usage")  # what the task does
    assert cached.get(esim.pk, cached.USAGE).value.used_mb == pytest.approx(300)


def test_refresh_button_fetches_at_most_once_a_minute(setup, client, roamify):
    _, _, esim = setup
    client.get(reverse("accounts:esim_detail", args=[esim.pk]))
    roamify.control.esim_action(esim.iccid, "consume", mb=120)
    url = reverse("accounts:esim_refresh", args=[esim.pk])
    response = client.post(url, follow=True)
    assert "Usage updated just now." in response.content.decode()
    assert cached.get(esim.pk, cached.USAGE).value.used_mb == pytest.approx(120)
    roamify.control.esim_action(esim.iccid, "consume", mb=50)
    with no_upstream():
        response = client.post(url, follow=True)
    assert "less than a minute ago" in response.content.decode()
    assert cached.get(esim.pk, cached.USAGE).value.used_mb == pytest.approx(120)


def test_esim_without_usage_check_shows_upstream_notes(roamify, alice, client, clear_cache):
    special = roamify.control._call("GET", "/catalog/special")
    package = make_package(package_id=special["noUsageCheck"][0])
    _, esim = bought_esim(package, alice)
    assert not esim.with_usage_check
    client.force_login(alice)
    html = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
    assert "Used" not in html.split('id="usage"')[1].split("</section>")[0].replace("Data used", "")
    note = " ".join(esim.notes) or "doesn't report data use"
    assert note[:40] in html


def test_a_revoked_esim_says_cancelled_once_and_offers_no_install(setup, client, roamify):
    # Found by hand: a revoked eSIM's page read "Cancelled Cancelled" (status and validity) and
    # still showed the QR code and codes of an eSIM that can no longer be installed.
    _, _, esim = setup
    roamify.control.esim_action(esim.iccid, "revoke")
    esim_services.refresh_now(esim)
    for url in (reverse("accounts:esim_detail", args=[esim.pk]), reverse("accounts:esim_list")):
        html = client.get(url).content.decode()
        text = re.sub(r"<[^>]+>", " ", html)
        assert "Cancelled" in text and not re.search(r"Cancelled\s+Cancelled", text), url
    html = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
    assert "can no longer be installed" in html
    assert "data:image/png;base64," not in html and esim.activation_code not in html
    assert "Make a share link" not in html
