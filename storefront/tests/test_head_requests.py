"""Read-only pages answer HEAD (uptime monitors, link checkers) and refuse writes."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage

from core.mail import OutboxBackend
from core.models import OutboxEmail

pytestmark = pytest.mark.django_db


def test_healthz_answers_head_like_get_without_a_body(client, roamify):
    response = client.head("/healthz")
    assert response.status_code == 200 and response.content == b""
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def outbox_message(settings) -> OutboxEmail:
    settings.DEBUG = True  # the outbox exists only in debug
    EmailMessage("Hello", "body", "shop@example.com", ["t@example.com"], connection=OutboxBackend()).send()
    return OutboxEmail.objects.get()


@pytest.mark.parametrize("path", ["/outbox/", "/outbox/{pk}/"])
def test_outbox_pages_answer_head_and_refuse_post(admin_client, outbox_message, path):
    url = path.format(pk=outbox_message.pk)
    assert admin_client.get(url).status_code == 200
    head = admin_client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert admin_client.post(url).status_code == 405
