from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_shops_icon(client):
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): no 404 in the console.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"
    assert finders.find("img/favicon.svg")
