import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("url", "field"), [("/accounts/login/", "login"), ("/accounts/signup/", "email"),
                                            ("/accounts/password/reset/", "email")])
def test_account_pages_use_the_shop_layout(client, url, field):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert f'name="{field}"' in html


def test_sign_up_and_sign_in_with_email(client):
    response = client.post("/accounts/signup/", {"email": "new@example.com", "password1": "a long pass 123",
                                                 "password2": "a long pass 123"})
    assert response.status_code == 302
    client.logout()
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": "a long pass 123"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
