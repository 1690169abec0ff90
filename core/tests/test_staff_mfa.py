"""The admin lets in only active staff who signed in with two factors (core/staff_mfa.py)."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.tests.staff import enable_totp, sign_in_staff, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
TOO_MANY = "Too many failed login attempts"


def wrong_code(secret: str) -> str:
    return "000000" if totp_code(secret) != "000000" else "111111"


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    """Rate limits and used TOTP codes live in the cache."""


@pytest.fixture
def staff():
    from allauth.account.models import EmailAddress

    user = get_user_model().objects.create_superuser("boss", "boss@example.com", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def admin_urls() -> list[str]:
    """The index, each app's index and each model's list: every kind of admin page."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        urls.append(reverse("admin:app_list", args=[model._meta.app_label]))
        urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    return sorted(set(urls))


def sign_in(client, user, password=PASSWORD, next_url="/admin/"):
    url = f"{reverse('account_login')}?next={next_url}"
    return client.post(url, {"login": user.email, "password": password})


def test_staff_without_2fa_are_sent_to_set_it_up_from_every_admin_page(client, staff):
    client.force_login(staff)
    setup = reverse("mfa_activate_totp")
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == setup, url
    assert client.get(reverse("admin:login")).headers["Location"] == setup


def test_staff_with_totp_but_no_second_factor_in_this_session_confirm_a_code(client, staff):
    secret = enable_totp(staff)
    client.force_login(staff)  # a session that never passed the TOTP step
    response = client.get("/admin/checkout/order/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_reauthenticate')}?next=%2Fadmin%2Fcheckout%2Forder%2F"
    wrong = client.post(response["Location"], {"code": wrong_code(secret)})
    assert wrong.status_code == 200 and client.get("/admin/").status_code == 302
    right = client.post(response["Location"], {"code": totp_code(secret)})
    assert right.status_code == 302 and right["Location"] == "/admin/checkout/order/"
    assert client.get("/admin/checkout/order/").status_code == 200


def test_anonymous_visitors_go_to_allauths_sign_in(client):
    response = client.get("/admin/catalog/package/")
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login.status_code == 302
    assert login["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2Fcatalog%2Fpackage%2F"


def test_the_admins_own_password_form_checks_no_password(client, staff):
    enable_totp(staff)
    response = client.post(
        reverse("admin:login"), {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_customers_get_the_admins_refusal(client):
    customer = get_user_model().objects.create_user("c", "c@example.com", PASSWORD)
    client.force_login(customer)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/login/?next=/admin/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "not authorized to access this page" in page.content.decode()


def test_sign_in_with_totp_opens_the_admin_and_a_wrong_code_does_not(client, staff):
    secret = enable_totp(staff)
    response = sign_in(client, staff)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    wrong = client.post(reverse("mfa_authenticate"), {"code": wrong_code(secret)})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302  # not signed in yet
    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert right.status_code == 302 and right["Location"] == "/admin/"
    for url in admin_urls():
        assert client.get(url).status_code == 200, url


def test_a_recovery_code_works_once(client, staff):
    enable_totp(staff)
    code = RecoveryCodes(Authenticator.objects.get(user=staff, type="recovery_codes")).get_unused_codes()[0]
    sign_in(client, staff)
    assert client.post(reverse("mfa_authenticate"), {"code": code})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.logout()
    sign_in(client, staff)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert again.status_code == 200 and client.get("/admin/").status_code == 302


@pytest.mark.django_db(transaction=True)  # allauth announces the new authenticator on commit
def test_setting_up_totp_opens_the_admin(client, staff):
    sign_in(client, staff)  # no TOTP yet: the password alone signs in...
    assert client.get("/admin/")["Location"] == reverse("mfa_activate_totp")  # ...but not to the admin
    asked = client.get(reverse("mfa_activate_totp"))  # allauth asks for the password again first
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    confirmed = client.post(asked["Location"], {"password": PASSWORD})
    assert confirmed["Location"] == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()  # the QR to scan
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_view_recovery_codes")
    assert client.get("/admin/").status_code == 200


def test_a_deactivated_staff_member_is_refused(client, staff):
    sign_in_staff(client, staff)
    assert client.get("/admin/").status_code == 200
    staff.is_staff = False
    staff.save()
    assert client.get("/admin/").status_code == 302


def test_thirty_wrong_passwords_meet_the_rate_limit_well_before_thirty(client, staff):
    """Today's /admin/login/ took 30 wrong passwords in a row; allauth's sign-in stops at 5."""
    accepted = 0
    for _ in range(30):
        page = sign_in(client, staff, password="wrong password").content.decode()
        if TOO_MANY in page:
            break
        accepted += 1
    assert 1 <= accepted <= 5
    # Now even the right password is refused for a while.
    assert TOO_MANY in sign_in(client, staff).content.decode()
    assert "_auth_user_id" not in client.session


def test_the_demo_admin_signs_in_with_its_totp_key(client):
    """scripts/demo.py runs ensure_admin with a key of its own and prints the recovery codes."""
    from io import StringIO

    from django.core.management import call_command

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    out = StringIO()
    options = {"email": "admin@example.com", "password": PASSWORD, "totp_secret": secret}
    call_command("ensure_admin", **options, stdout=out)
    codes = out.getvalue().split("recovery codes:")[1].split()
    assert len(codes) == 10
    again = StringIO()  # the next `make demo` keeps the key and the codes
    call_command("ensure_admin", **options, stdout=again)
    assert again.getvalue().split("recovery codes:")[1].split() == codes
    admin_user = get_user_model().objects.get(email="admin@example.com")
    sign_in(client, admin_user)
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
