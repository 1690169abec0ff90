"""Usage that is true when shown, against the Roamify sandbox: the JSON the eSIM pages poll (the
owner's only; cheap; limited), when the figures were read, used or left on every eSIM of the list,
and today's use of an unlimited plan's daily full-speed data."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roamify_client import roamify_client
from esims import cached
from esims import services as esim_services

from .conftest import bought_esim, make_package

pytestmark = pytest.mark.django_db


def unlimited_package(roamify):
    """A catalog row for an unlimited sandbox plan with a daily full-speed allowance (as a sync
    writes it: `throttle_threshold_mb`)."""
    special = roamify.control.special_packages()
    skip = set(special["noUsageCheck"]) | set(special["noTopUp"]) | set(special["travelDate"])
    package_id = next(p for p in special["unlimited"] if p not in skip)
    upstream = roamify_client().packages_page(1, 5, package_id=package_id)[0].packages[0]
    assert upstream.throttle is not None and upstream.throttle.threshold_unit.lower() == "gb"
    package = make_package(package_id=package_id)
    package.is_unlimited = True
    package.data_mb = None
    package.throttle_threshold_mb = int(upstream.throttle.threshold * 1024)
    package.throttle_speed_kbps = int(upstream.throttle.speed)
    package.save()
    return package


def utc_today() -> str:
    return timezone.now().astimezone(dt.UTC).date().isoformat()


def make_stale(esim, minutes: int = 10) -> None:
    then = timezone.now() - dt.timedelta(minutes=minutes)
    cached.store(
        esim.pk, cached.USAGE, replace(cached.get(esim.pk, cached.USAGE).value, fetched_at=then), then
    )


@pytest.fixture
def limited(roamify, alice, clear_cache, client):
    _, esim = bought_esim(make_package(), alice)
    client.force_login(alice)
    return esim


def test_stale_figures_are_answered_as_they_are_and_one_refresh_is_queued(limited, client, roamify):
    esim = limited
    url = reverse("accounts:esim_usage", args=[esim.pk])
    page = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
    # Just read: the page asks again once the figures are older than the cache's age (300 s).
    assert re.search(rf'data-usage-url="{url}\?part=section" data-usage-current-for="(29\d|300)"', page)
    make_stale(esim)
    roamify.control.esim_action(esim.iccid, "consume", mb=300)
    with (
        mock.patch("esims.services.roamify_client", side_effect=AssertionError("upstream was called")),
        mock.patch("esims.cached.after_commit") as queued,
    ):
        page = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
        stale = client.get(url + "?part=section")
        client.get(url + "?part=section")
    assert f'data-usage-url="{url}?part=section" data-usage-current-for="0"' in page and "usage.js" in page
    assert "Read from the network 10 min ago" in page
    assert stale.status_code == 200 and stale["Cache-Control"] == "private, no-store"
    body = stale.json()
    assert body["current"] is False and "0 MB" in body["html"]
    assert queued.call_args_list == [
        mock.call("esims.refresh_upstream", esim.pk, "usage")
    ]  # once for all three
    esim_services.refresh_in_background(esim.pk, "usage")  # what the queued task does
    fresh = client.get(url + "?part=section").json()
    assert fresh["current"] is True and 290 <= fresh["current_for"] <= 300
    assert "300 MB" in fresh["html"] and "Read from the network just now" in fresh["html"]
    assert dt.datetime.fromisoformat(fresh["read_at"]) > dt.datetime.fromisoformat(body["read_at"])
    bar = client.get(url + "?part=bar").json()["html"]
    assert 'role="meter"' in bar and "<form" not in bar  # the list's part: the bar alone


def test_another_customers_esim_is_refused(limited, client, bob):
    client.force_login(bob)
    assert client.get(reverse("accounts:esim_usage", args=[limited.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("accounts:esim_usage", args=[limited.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_polling_is_limited_per_minute(limited, client):
    from accounts.views import USAGE_POLLS_PER_MINUTE

    url = reverse("accounts:esim_usage", args=[limited.pk])
    statuses = [client.get(url).status_code for _ in range(USAGE_POLLS_PER_MINUTE + 1)]
    assert statuses[:-1] == [200] * USAGE_POLLS_PER_MINUTE
    assert statuses[-1] == 429


def test_the_list_shows_used_or_left_for_every_esim(roamify, alice, clear_cache, client):
    _, limited = bought_esim(make_package(), alice)
    _, unlimited = bought_esim(unlimited_package(roamify), alice)
    roamify.control.esim_action(limited.iccid, "consume", mb=100, date=utc_today())
    client.force_login(alice)
    html = client.get(reverse("accounts:esim_list")).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    # Before any use the unlimited eSIM said "Unlimited data · used", with no number.
    assert "Unlimited data · 0 MB used" in text
    assert re.search(r"\d+(\.\d)? (MB|GB) left of \d+(\.\d)? (MB|GB)", text)
    assert not re.search(r"·\s+used", text)
    roamify.control.esim_action(unlimited.iccid, "consume", mb=300, date=utc_today())
    esim_services.refresh_now(unlimited)
    text = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(reverse("accounts:esim_list")).content.decode())
    )
    assert "Unlimited data · 300 MB used" in text


def test_a_daily_allowance_plan_shows_todays_use_against_it(roamify, alice, clear_cache, client):
    package = unlimited_package(roamify)
    _, esim = bought_esim(package, alice)
    yesterday = (timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    roamify.control.esim_action(esim.iccid, "consume", mb=700, date=yesterday)
    roamify.control.esim_action(esim.iccid, "consume", mb=300, date=utc_today())
    client.force_login(alice)
    allowance = f"{package.throttle_threshold_mb // 1024} GB"
    for url in (reverse("accounts:esim_detail", args=[esim.pk]), reverse("accounts:esim_list")):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).content.decode()))
        assert f"300 MB of today's {allowance} at full speed" in text, url
        assert "1000 MB used" in text or "1,000 MB used" in text or "1 GB used" in text, url
    html = client.get(reverse("accounts:esim_detail", args=[esim.pk])).content.decode()
    assert 'aria-label="Full-speed data left today"' in html
