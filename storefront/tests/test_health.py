import pytest

pytestmark = pytest.mark.django_db


def test_healthz_all_green_with_the_sandbox(admin_client, roamify):
    response = admin_client.get("/healthz")  # the detail is for staff only
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "upstream"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_degraded_but_serving_when_upstream_is_down(admin_client, roamify):
    # Upstream down is the same for every instance: a 503 would make the load balancer close the shop.
    roamify.control.inject_fault("GET", "/api/health", status=503, count=None)
    response = admin_client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["upstream"]["ok"] is False and body["checks"]["database"]["ok"] is True


def test_healthz_red_when_the_broker_is_unreachable(admin_client, roamify, settings):
    from storefront.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = admin_client.get("/healthz")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False and "error" in body["checks"]["broker"]
    assert response.status_code == 503 and body["status"] == "down"  # this instance cannot queue work


def test_errors_never_show_a_stack_trace(client, settings):
    settings.DEBUG = False
    html = client.get("/no/such/page/").content.decode()
    assert "couldn't find that page" in html and "Traceback" not in html
