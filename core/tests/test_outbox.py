import pytest
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives

from core.mail import OutboxBackend
from core.models import OutboxEmail

pytestmark = pytest.mark.django_db


def send_one():
    message = EmailMultiAlternatives(
        "Hello", "plain body", "shop@example.com", ["t@example.com"], connection=OutboxBackend()
    )
    message.attach_alternative('<p>html <img src="cid:logo@x"></p>', "text/html")
    from email.mime.image import MIMEImage

    from esims.qr import qr_png

    image = MIMEImage(qr_png("LPA:1$x$y"), _subtype="png")
    image.add_header("Content-ID", "<logo@x>")
    message.attach(image)
    message.send()


def test_outbox_keeps_every_message_and_shows_it_to_staff_in_debug(client, settings):
    send_one()
    email = OutboxEmail.objects.get()
    assert email.to == "t@example.com" and email.body_text == "plain body" and "cid:logo@x" in email.body_html
    settings.DEBUG = True
    assert client.get("/outbox/").status_code == 302  # staff only
    staff = get_user_model().objects.create_user("s@example.com", "s@example.com", "pw", is_staff=True)
    client.force_login(staff)
    assert "Hello" in client.get("/outbox/").content.decode()
    detail = client.get(f"/outbox/{email.pk}/").content.decode()
    assert "data:image/png;base64," in detail  # the inline image, viewable in a browser
    settings.DEBUG = False
    assert client.get("/outbox/").status_code == 404  # never in production
