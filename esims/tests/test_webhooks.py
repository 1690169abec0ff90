"""Roamify webhooks: signature checked, each event stored once and acted on once; low-data emails
once per threshold per allowance; the partner balance alert."""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from esims import cached, services
from esims.models import Esim, LowDataAlert, PartnerBalance, RoamifyEvent
from esims.signatures import sign

pytestmark = pytest.mark.django_db
SECRET = "whsec_roamify_test"
OUTBOX: list = []
URL = "/roamify/webhook/"


@pytest.fixture(autouse=True)
def configured(settings, clear_cache):
    settings.ROAMIFY_WEBHOOK_SECRET = SECRET
    settings.ALERT_EMAILS = ["ops@example.com"]


@pytest.fixture
def eager():
    import esims.tasks  # noqa: F401  (registers the tasks in this process)
    from storefront.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def esim(db):
    return Esim.objects.create(
        upstream_esim_id="e-1",
        iccid="8901000000000000123",
        email="t@example.com",
        title="Japan eSIM, 1 GB",
        status="READY",
        with_top_up=True,
    )


def post(client, payload: dict, *, secret: str | None = SECRET, signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_X_ROAMIFY_SIGNATURE"] = signature
    elif secret is not None:
        headers["HTTP_X_ROAMIFY_SIGNATURE"] = sign(secret, body)
    return client.post(URL, body, content_type="application/json", **headers)


def usage_event(esim: Esim, used_mb: float, allowed_mb: float = 1024, ts: int = 1) -> dict:
    return {
        "event_category": "esim",
        "event_type": "usage",
        "data": {
            "timestamp": ts,
            "iccid": esim.iccid,
            "esim_id": esim.upstream_esim_id,
            "status": "INSTALLED",
            "start": 1_700_000_000,
            "end": 1_900_000_000,
            "package_id": "esim-japan-7days-1gb-all",
            "data_units": "MB",
            "usage_data": {
                "isUnlimited": False,
                "allowed_data": allowed_mb,
                "remaining_data": allowed_mb - used_mb,
            },
            "usage_list": [{"date": "2026-12-01", "data_used": used_mb, "location": "Japan"}],
        },
    }


@pytest.fixture(autouse=True)
def _outbox(mailoutbox):
    global OUTBOX
    OUTBOX = mailoutbox


def low_data_emails(esim: Esim) -> list:
    return [m for m in OUTBOX if m.to == [esim.email] and "data" in m.subject]


def test_reverse_name():
    assert reverse("esims:roamify_webhook") == URL


@pytest.mark.parametrize("signature", [None, "", "deadbeef", sign("another secret", b"{}")])
def test_bad_or_missing_signature_is_rejected_and_nothing_stored(client, esim, signature):
    payload = usage_event(esim, 900)
    response = post(client, payload, secret=None, signature=signature)
    assert response.status_code == 400
    assert not RoamifyEvent.objects.exists()


def test_signature_over_another_body_is_rejected(client, esim):
    body = json.dumps(usage_event(esim, 900)).encode()
    response = client.post(
        URL,
        body.replace(b"900", b"100"),
        content_type="application/json",
        HTTP_X_ROAMIFY_SIGNATURE=sign(SECRET, body),
    )
    assert response.status_code == 400


def test_no_secret_configured_refuses_every_webhook(client, esim, settings):
    settings.ROAMIFY_WEBHOOK_SECRET = ""
    assert post(client, usage_event(esim, 900), secret="").status_code == 503


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"data": {}}'])
def test_signed_garbage_is_a_400(client, body):
    response = client.post(
        URL, body, content_type="application/json", HTTP_X_ROAMIFY_SIGNATURE=sign(SECRET, body)
    )
    assert response.status_code == 400
    assert not RoamifyEvent.objects.exists()


def test_the_same_event_twice_acts_once(client, esim, eager, django_capture_on_commit_callbacks):
    payload = usage_event(esim, 850)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, payload)
    with django_capture_on_commit_callbacks(execute=True) as second_callbacks:
        second = post(client, payload)
    assert first.json() == {"received": True, "duplicate": False}
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert second_callbacks == []  # nothing queued for the duplicate
    assert RoamifyEvent.objects.count() == 1 and RoamifyEvent.objects.get().processed_at
    assert len(low_data_emails(esim)) == 1
    assert services.process_event(RoamifyEvent.objects.get().pk) == "already processed"
    assert len(low_data_emails(esim)) == 1


def test_usage_webhook_updates_the_cache_at_once(client, esim, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, usage_event(esim, 300))
    snapshot = cached.peek(esim.pk, cached.USAGE)
    assert snapshot.source == "webhook" and snapshot.used_mb == 300 and snapshot.remaining_mb == 724


def test_one_email_per_threshold_per_allowance(client, esim, eager, django_capture_on_commit_callbacks):
    def deliver(used, allowed=1024, ts=1):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, usage_event(esim, used, allowed, ts)).status_code == 200

    deliver(500)  # 49 %: nothing
    assert len(low_data_emails(esim)) == 0
    deliver(850, ts=2)  # 83 %
    deliver(930, ts=3)  # 90 %: still the 80 % threshold
    assert [m.subject for m in low_data_emails(esim)] == ["You've used 80% of your Japan eSIM, 1 GB data"]
    deliver(1024, ts=4)  # 100 %
    deliver(1024, ts=5)
    assert len(low_data_emails(esim)) == 2
    assert [m.subject for m in low_data_emails(esim)][1] == "Your Japan eSIM, 1 GB is out of data"
    body = low_data_emails(esim)[0].alternatives[0][0]
    assert "/esim/top-up/" in body
    # A top-up makes a new allowance: its thresholds count anew.
    deliver(1024 + 1700, allowed=3072, ts=6)  # 88 % of the new allowance
    assert len(low_data_emails(esim)) == 3


def test_straight_to_100_sends_one_email(client, esim, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, usage_event(esim, 1024))
    assert len(low_data_emails(esim)) == 1
    assert set(LowDataAlert.objects.values_list("threshold", "skipped")) == {(80, True), (100, False)}


def test_status_webhook_updates_the_esim(client, esim, eager, django_capture_on_commit_callbacks):
    payload = {
        "event_category": "esim",
        "event_type": "status",
        "data": {
            "timestamp": 5,
            "iccid": esim.iccid,
            "esim_id": esim.upstream_esim_id,
            "status": "ACTIVATED",
            "start": 1_800_000_000,
            "end": 1_800_604_800,
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    esim.refresh_from_db()
    assert esim.status == "INSTALLED" and esim.expires_at.timestamp() == 1_800_604_800


def test_unknown_esim_is_stored_and_ignored(client, eager, django_capture_on_commit_callbacks):
    payload = {
        "event_category": "esim",
        "event_type": "status",
        "data": {"iccid": "8999", "status": "EXPIRED"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload).status_code == 200
    assert RoamifyEvent.objects.get().processed_at


def test_low_partner_balance_alerts_admins_once(
    client, eager, settings, django_capture_on_commit_callbacks, admin_client
):
    settings.ROAMIFY_LOW_BALANCE_CENTS = 10_000

    def partner(kind, balance, ts):
        payload = {
            "event_category": "partner",
            "event_type": kind,
            "data": {
                "timestamp": ts,
                "balance": balance,
                "threshold": 100,
                "threshold_percentage": 10,
                "currency": "USD",
            },
        }
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, payload).status_code == 200

    partner("low_balance", 80.5, 1)
    partner("low_balance", 70, 2)
    alerts = [m for m in OUTBOX if "Roamify balance is low" in m.subject]
    assert len(alerts) == 1 and alerts[0].to == ["ops@example.com"]
    assert "80.50" in alerts[0].subject
    html = admin_client.get("/admin/").content.decode()
    assert "Roamify partner balance is low" in html and "$70.00" in html
    partner("top_up", 500, 3)
    assert PartnerBalance.objects.get().alerted_at is None
    assert "Roamify partner balance is low" not in admin_client.get("/admin/").content.decode()
    partner("low_balance", 60, 4)  # a new drop: a new alert
    assert len([m for m in OUTBOX if "Roamify balance is low" in m.subject]) == 2


TABLE = re.compile(r'(?:FROM|INTO|UPDATE) "(\w+)"')


def data_queries(captured: CaptureQueriesContext) -> list[str]:
    """Each query's verb and table, savepoints left out (a test runs inside a transaction)."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            table = re.search(TABLE, sql)
            found.append(f"{sql.split()[0]} {table[1] if table else '?'}")
    return found


def test_the_webhook_stores_the_event_and_leaves_the_work_to_celery(
    client, esim, django_capture_on_commit_callbacks
):
    """Roamify waits for the answer, so the webhook only stores the event and queues its work.

    What makes it fast is asserted (a fixed few queries, one task queued, nothing acted on before
    the worker runs), not how fast it was: a wall-clock median flaked on a loaded machine."""
    for i in range(3):
        payload = usage_event(esim, 900, ts=100 + i)  # past 80 %: acting on it would record an alert
        with (
            mock.patch("core.queue.send") as send,
            django_capture_on_commit_callbacks(execute=True),
            CaptureQueriesContext(connection) as captured,
        ):
            assert post(client, payload).json() == {"received": True, "duplicate": False}
        assert data_queries(captured) == ["SELECT esims_roamifyevent", "INSERT esims_roamifyevent"]
        event = RoamifyEvent.objects.get(payload__data__timestamp=100 + i)
        send.assert_called_once_with("esims.process_roamify_event", event.pk)
    assert RoamifyEvent.objects.count() == 3
    assert not RoamifyEvent.objects.filter(processed_at__isnull=False).exists()
    assert cached.peek(esim.pk, cached.USAGE) is None
    assert not LowDataAlert.objects.exists() and low_data_emails(esim) == []


def test_roamify_events_cannot_be_deleted_in_admin(client, esim, admin_client):
    """What Roamify told us is kept: no delete page, no "delete selected", one by one or in bulk."""
    assert post(client, usage_event(esim, 10)).status_code == 200
    event = RoamifyEvent.objects.get()
    changelist = reverse("admin:esims_roamifyevent_changelist")
    listing = admin_client.get(changelist)
    assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
    page = admin_client.get(reverse("admin:esims_roamifyevent_change", args=[event.pk])).content.decode()
    assert "deletelink" not in page
    delete_url = reverse("admin:esims_roamifyevent_delete", args=[event.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert RoamifyEvent.objects.filter(pk=event.pk).exists()


def test_a_status_webhook_does_not_make_old_figures_look_new(
    client, esim, eager, django_capture_on_commit_callbacks
):
    # Found on a phone: after data was used, the page said "Used —" beside "Updated just now": a
    # status webhook (the activation) had stored the old figures again as read at that moment.
    import datetime as dt

    from django.utils import timezone

    from esims.usage import UsageSnapshot

    then = timezone.now() - dt.timedelta(minutes=20)
    cached.store(
        esim.pk, cached.USAGE, UsageSnapshot(fetched_at=then, allowed_mb=1024, remaining_mb=1024), then
    )
    payload = {
        "event_category": "esim",
        "event_type": "status",
        "data": {
            "timestamp": 6,
            "iccid": esim.iccid,
            "esim_id": esim.upstream_esim_id,
            "status": "ACTIVATED",
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    entry = cached.get(esim.pk, cached.USAGE)
    assert entry.value.status == "INSTALLED"
    assert entry.fetched_at == then and entry.value.fetched_at == then
    assert cached.is_stale(entry, cached.USAGE, timezone.now())  # so the next view reads it anew
