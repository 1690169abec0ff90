import pytest

from catalog.cache import bump_catalog_version
from catalog.models import Package

from .factories import DestinationFactory, DeviceFactory, PackageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    """Each test starts with this process's cache empty."""


@pytest.fixture
def japan():
    jp = DestinationFactory(name="Japan", code="JP", slug="japan", upstream_id="japan-esims",
                            popularity=20, package_count=4, from_price_cents=499)
    PackageFactory(destination=jp, package_id="esim-japan-7days-1gb-all", days=7, data_mb=1024,
                   retail_cents=499, price_per_gb_cents=499)
    PackageFactory(destination=jp, package_id="esim-japan-30days-10gb-all", days=30,
                   data_mb=10240, retail_cents=2499, price_per_gb_cents=250, name="10 GB - 30 Days")
    PackageFactory(destination=jp, package_id="esim-japan-15days-un2gb-all", days=15, data_mb=None,
                   is_unlimited=True, throttle_threshold_mb=2048, throttle_speed_kbps=128,
                   retail_cents=3999, price_per_gb_cents=None, name="Unlimited - 15 Days")
    PackageFactory(destination=jp, package_id="esim-japan-3days-gone-all", active=False)
    return jp


def package_ids(response):
    return [p.package_id for p in response.context["packages"]]


def test_home_lists_popular_and_tabs(client, japan):
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    response = client.get("/")
    assert response.status_code == 200
    assert japan in response.context["popular"]
    assert asia not in response.context["destinations"]
    response = client.get("/?tab=regional")
    assert [d.name for d in response.context["destinations"]] == ["Asia"]
    assert client.get("/?tab=<script>").status_code == 200


def test_destination_lists_active_packages_sorted_by_price(client, japan):
    response = client.get("/esim/japan/")
    assert response.status_code == 200
    assert package_ids(response) == [
        "esim-japan-7days-1gb-all", "esim-japan-30days-10gb-all", "esim-japan-15days-un2gb-all"]
    html = response.content.decode()
    assert "Japan eSIM" in html and "$4.99" in html
    assert "esim-japan-3days-gone-all" not in html


def test_filters_and_sorting(client, japan):
    assert package_ids(client.get("/esim/japan/?unlimited=on")) == ["esim-japan-15days-un2gb-all"]
    assert package_ids(client.get("/esim/japan/?data=5")) == [
        "esim-japan-30days-10gb-all", "esim-japan-15days-un2gb-all"]
    assert package_ids(client.get("/esim/japan/?days=8-15")) == ["esim-japan-15days-un2gb-all"]
    assert package_ids(client.get("/esim/japan/?days=31-")) == []
    assert package_ids(client.get("/esim/japan/?sort=price_per_gb"))[0] == "esim-japan-30days-10gb-all"
    assert package_ids(client.get("/esim/japan/?sort=days"))[0] == "esim-japan-30days-10gb-all"


@pytest.mark.parametrize("query", [
    "?data=abc", "?days=9999", "?sort=drop+table", "?unlimited=maybe&data=1", "?page=-1",
    "?data=%00", "?days=1-7&days=x",
])
def test_bad_query_parameters_get_a_normal_page(client, japan, query):
    response = client.get("/esim/japan/" + query)
    assert response.status_code == 200
    assert len(package_ids(response)) >= 1


def test_unknown_destination_and_package_are_404_pages(client, japan):
    assert client.get("/esim/atlantis/").status_code == 404
    assert client.get("/esim/japan/esim-nope/").status_code == 404
    # A deactivated package is gone from the shop.
    assert client.get("/esim/japan/esim-japan-3days-gone-all/").status_code == 404


def test_package_page_has_what_a_buyer_needs(client, japan):
    response = client.get("/esim/japan/esim-japan-15days-un2gb-all/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Full speed for the first 2 GB each day, then unlimited at 128 kbps" in html
    assert "starts when the eSIM first connects" in html
    assert "Hotspot" in html and "Top-ups" in html and "How to install" in html
    assert 'name="package" value="esim-japan-15days-un2gb-all"' in html
    assert "<title>Japan eSIM Unlimited 15 days — $39.99" in html


def test_package_under_the_wrong_destination_redirects(client, japan):
    other = DestinationFactory(slug="korea")
    assert other
    response = client.get("/esim/korea/esim-japan-7days-1gb-all/")
    assert response.status_code == 301 and response["Location"] == "/esim/japan/esim-japan-7days-1gb-all/"


def test_search_redirects_on_one_match_and_lists_several(client, japan):
    DestinationFactory(name="Jamaica", code="JM", slug="jamaica")
    assert client.get("/search/?q=jap")["Location"] == "/esim/japan/"
    response = client.get("/search/?q=ja")
    assert [d.name for d in response.context["results"]] == ["Jamaica", "Japan"]
    assert client.get("/search/?q=zzz").status_code == 200
    assert client.get("/search/?q=" + "x" * 5000).status_code == 200
    assert client.get("/search/?q=ja%00p").status_code == 200
    assert client.get("/search/suggest/?q=%00%00").json() == {"results": []}


def test_suggest_returns_json(client, japan):
    data = client.get("/search/suggest/?q=jap").json()
    assert data["results"][0]["name"] == "Japan"
    assert data["results"][0]["url"] == "/esim/japan/"
    assert data["results"][0]["from"] == "$4.99"
    assert client.get("/search/suggest/?q=j").json() == {"results": []}


def test_regional_page_lists_countries_and_country_lists_regions(client, japan):
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    asia.covers.add(japan)
    PackageFactory(destination=asia)
    html = client.get("/esim/asia/").content.decode()
    assert "Works in 1 countries" in html and 'href="/esim/japan/"' in html
    assert asia in client.get("/esim/japan/").context["regions"]


def test_device_check(client):
    DeviceFactory(model="iPhone 13 / 13 mini", name="Apple iPhone 13 series", brand="Apple", os="ios")
    DeviceFactory(model="Galaxy S22", name="Samsung Galaxy S22", brand="Samsung")
    html = client.get("/devices/?q=iphone 13").content.decode()
    assert "Yes: Apple iPhone 13 series supports eSIM" in html and "Digital SIM" in html
    html = client.get("/devices/?q=nokia 3310").content.decode()
    assert "We couldn't find" in html and "*#06#" in html
    assert client.get("/devices/?q=" + "%00" * 50).status_code == 200


def test_query_counts_do_not_grow_with_the_catalog(client, japan, django_assert_num_queries):
    def counts():
        bump_catalog_version()  # nothing cached: every page is rendered
        with django_assert_num_queries(3):  # destination, packages, regions covering it
            client.get("/esim/japan/")
        with django_assert_num_queries(1):  # package with its destination
            client.get("/esim/japan/esim-japan-7days-1gb-all/")
        with django_assert_num_queries(2):  # popular, one tab
            client.get("/")

    counts()
    for i in range(40):
        PackageFactory(destination=japan, package_id=f"esim-japan-extra-{i}")
        DestinationFactory()
    counts()


def test_anonymous_pages_are_cached_until_the_catalog_changes(client, japan, django_assert_num_queries):
    assert client.get("/esim/japan/")["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get("/esim/japan/")["X-Page-Cache"] == "hit"
    Package.objects.filter(package_id="esim-japan-7days-1gb-all").update(retail_cents=599)
    assert "$4.99" in client.get("/esim/japan/").content.decode()  # still the cached page
    bump_catalog_version()
    response = client.get("/esim/japan/")
    assert response["X-Page-Cache"] == "miss" and "$5.99" in response.content.decode()


def test_visitors_with_a_session_get_fresh_pages(client, japan):
    client.get("/esim/japan/")
    client.cookies["sessionid"] = "abc"
    assert "X-Page-Cache" not in client.get("/esim/japan/")


def test_sitemap_and_robots(client, japan):
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and b"sitemap-destinations.xml" in index.content
    dests = client.get("/sitemap-destinations.xml").content.decode()
    assert "/esim/japan/" in dests
    packages = client.get("/sitemap-packages.xml").content.decode()
    assert "/esim/japan/esim-japan-7days-1gb-all/" in packages
    assert "esim-japan-3days-gone-all" not in packages
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots and "Disallow: /admin/" in robots
