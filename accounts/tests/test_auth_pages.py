import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field"),
    [("/accounts/login/", "login"), ("/accounts/signup/", "email"), ("/accounts/password/reset/", "email")],
)
def test_account_pages_use_the_shop_layout(client, url, field):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert f'name="{field}"' in html


def test_sign_up_needs_the_email_verified_before_signing_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com"},  # the email alone since issue 21: a password is optional
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
