import pytest

from catalog.cache import bump_catalog_version
from catalog.currency import store_in_cache
from catalog.models import Package

from .factories import DestinationFactory, DeviceFactory, PackageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache(clear_cache):
    """Each test starts with this process's cache empty."""


@pytest.fixture
def japan():
    jp = DestinationFactory(
        name="Japan",
        code="JP",
        slug="japan",
        upstream_id="japan-esims",
        popularity=20,
        package_count=4,
        from_price_cents=499,
    )
    PackageFactory(
        destination=jp,
        package_id="esim-japan-7days-1gb-all",
        days=7,
        data_mb=1024,
        retail_cents=499,
        price_per_gb_cents=499,
    )
    PackageFactory(
        destination=jp,
        package_id="esim-japan-30days-10gb-all",
        days=30,
        data_mb=10240,
        retail_cents=2499,
        price_per_gb_cents=250,
        name="10 GB - 30 Days",
    )
    PackageFactory(
        destination=jp,
        package_id="esim-japan-15days-un2gb-all",
        days=15,
        data_mb=None,
        is_unlimited=True,
        throttle_threshold_mb=2048,
        throttle_speed_kbps=128,
        retail_cents=3999,
        price_per_gb_cents=None,
        name="Unlimited - 15 Days",
    )
    PackageFactory(destination=jp, package_id="esim-japan-3days-gone-all", active=False)
    return jp


def package_ids(response):
    return [p.package_id for p in response.context["packages"]]


def test_home_lists_popular_and_regions_with_country_counts(client, japan):
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    asia.covers.add(japan, DestinationFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert japan in response.context["popular"]
    assert [(d.name, d.country_count) for d in response.context["regions"]] == [("Asia", 2)]
    html = response.content.decode()
    assert "2 countries" in html and 'href="/destinations/"' in html
    assert "Not installed? Full refund." in html
    assert client.get("/?tab=<script>").status_code == 200


def test_all_destinations_page_lists_countries_by_letter(client, japan):
    DestinationFactory(name="Jamaica", code="JM", slug="jamaica")
    response = client.get("/destinations/")
    assert [(letter, [d.name for d in ds]) for letter, ds in response.context["letters"]] == [
        ("J", ["Jamaica", "Japan"])
    ]


def test_destination_lists_active_packages_shortest_first(client, japan):
    response = client.get("/esim/japan/")
    assert response.status_code == 200
    assert package_ids(response) == [
        "esim-japan-7days-1gb-all",
        "esim-japan-15days-un2gb-all",
        "esim-japan-30days-10gb-all",
    ]
    html = response.content.decode()
    assert "Japan eSIM" in html and "$4.99" in html
    assert "esim-japan-3days-gone-all" not in html


def test_planner_recommends_one_plan_and_two_alternatives(client, japan):
    PackageFactory(
        destination=japan,
        package_id="esim-japan-21days-5gb-all",
        days=21,
        data_mb=5120,
        retail_cents=1299,
        price_per_gb_cents=260,
        name="5 GB - 21 Days",
    )
    PackageFactory(
        destination=japan,
        package_id="esim-japan-10days-3gb-all",
        days=10,
        data_mb=3072,
        retail_cents=899,
        price_per_gb_cents=300,
        name="3 GB - 10 Days",
    )
    response = client.get("/esim/japan/?days=10&data=5")
    advice = response.context["advice"]
    assert advice.best.package_id == "esim-japan-21days-5gb-all"  # a 21-day plan fits a 10-day trip
    assert advice.cheaper.package_id == "esim-japan-10days-3gb-all"
    assert advice.unlimited.package_id == "esim-japan-15days-un2gb-all"
    assert package_ids(response) == [
        "esim-japan-21days-5gb-all",
        "esim-japan-30days-10gb-all",
        "esim-japan-15days-un2gb-all",
    ]
    html = response.content.decode()
    assert "Our pick for 10 days, 5 GB" in html and "Cheaper, less data" in html
    # Not sure: medium use is 0.7 GB a day, so 10 days need 7 GB.
    advice = client.get("/esim/japan/?days=10&data=unsure&use=medium").context["advice"]
    assert advice.best.package_id == "esim-japan-30days-10gb-all"
    advice = client.get("/esim/japan/?days=10&data=unlimited").context["advice"]
    assert advice.best.package_id == "esim-japan-15days-un2gb-all" and advice.unlimited is None
    # Days only: the list narrows, no pick yet.
    response = client.get("/esim/japan/?days=14")
    assert response.context["advice"] is None
    assert package_ids(response) == [
        "esim-japan-15days-un2gb-all",
        "esim-japan-21days-5gb-all",
        "esim-japan-30days-10gb-all",
    ]
    assert client.get("/esim/japan/?days=90&data=20").context["advice"].best is None


def test_the_list_has_one_card_per_data_and_days_and_no_repeated_title(client, japan):
    PackageFactory(
        destination=japan,
        package_id="esim-japan-15days-un5gb-all",
        days=15,
        data_mb=None,
        is_unlimited=True,
        throttle_threshold_mb=5120,
        throttle_speed_kbps=512,
        retail_cents=4999,
        price_per_gb_cents=None,
        name="Unlimited - 15 Days (5 GB)",
    )
    response = client.get("/esim/japan/")
    assert package_ids(response) == [
        "esim-japan-7days-1gb-all",
        "esim-japan-15days-un2gb-all",
        "esim-japan-30days-10gb-all",
    ]
    html = response.content.decode()
    assert "10 GB - 30 Days" not in html  # the card says "10 GB · 30 days" once


def test_country_page_shows_regions_covering_it_with_the_price_difference(client, japan):
    asia = DestinationFactory(
        name="Asia", code="ASIA", slug="asia", geography="regional", from_price_cents=699
    )
    asia.covers.add(japan, DestinationFactory(), DestinationFactory())
    PackageFactory(
        destination=asia, package_id="esim-asia-30days-10gb-all", days=30, data_mb=10240, retail_cents=2999
    )
    offers = client.get("/esim/japan/").context["region_offers"]
    assert [(o["region"].name, o["price"], o["difference"]) for o in offers] == [("Asia", 699, 200)]
    assert offers[0]["region"].country_count == 3
    offers = client.get("/esim/japan/?days=10&data=5").context["region_offers"]
    assert [(o["price"], o["difference"]) for o in offers] == [(2999, 500)]
    assert offers[0]["url"] == "/esim/asia/?days=10&data=5"


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
    assert 'href="/refund-policy/">Not installed? Full refund.</a>' in html
    assert "/devices/?plan=/esim/japan/esim-japan-15days-un2gb-all/" in html.replace("%2F", "/")
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
    assert client.get("/search/?q=Japan")["Location"] == "/esim/japan/"
    response = client.get("/search/?q=ja")
    assert [d.name for d in response.context["found"].destinations] == ["Japan", "Jamaica"]  # popular first
    assert client.get("/search/?q=zzz").status_code == 200
    assert client.get("/search/?q=" + "x" * 5000).status_code == 200
    assert client.get("/search/?q=ja%00p").status_code == 200
    assert client.get("/search/suggest/?q=%00%00").json() == {"how": "none", "results": []}


def test_search_pages_for_several_countries_and_typos(client, japan):
    korea = DestinationFactory(name="South Korea", code="KR", slug="south-korea")
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    asia.covers.add(japan, korea)
    response = client.get("/search/?q=japan+south+korea")
    assert response.status_code == 200
    assert "Plans that cover Japan and South Korea" in response.content.decode()
    assert [d.name for d in response.context["found"].regions] == ["Asia"]
    response = client.get("/search/?q=japn")
    assert response.status_code == 200 and "Did you mean" in response.content.decode()
    assert [d.name for d in response.context["found"].destinations] == ["Japan"]


def test_suggest_returns_json(client, japan):
    data = client.get("/search/suggest/?q=jap").json()
    assert data["results"][0]["name"] == "Japan"
    assert data["results"][0]["url"] == "/esim/japan/"
    assert data["results"][0]["from"] == "$4.99"
    assert client.get("/search/suggest/?q=j").json() == {"how": "none", "results": []}


def test_combobox_markup(client, japan):
    html = client.get("/").content.decode()
    assert 'role="combobox"' in html and 'aria-controls="search-suggestions"' in html
    assert 'aria-expanded="false"' in html and 'role="listbox"' in html


def test_regional_page_lists_countries_and_country_lists_regions(client, japan):
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    asia.covers.add(japan)
    PackageFactory(destination=asia)
    html = client.get("/esim/asia/").content.decode()
    assert "Works in 1 country<" in html and 'href="/esim/japan/"' in html
    assert [o["region"] for o in client.get("/esim/japan/").context["region_offers"]] == [asia]


def test_device_check(client):
    DeviceFactory(model="iPhone 13 / 13 mini", name="Apple iPhone 13 series", brand="Apple", os="ios")
    DeviceFactory(model="Galaxy S22", name="Samsung Galaxy S22", brand="Samsung")
    html = client.get("/devices/?q=iphone 13").content.decode()
    assert "Yes: the Apple iPhone 13 supports eSIM" in html and "Digital SIM" in html
    html = client.get("/devices/?q=iphone13 mini&plan=/esim/japan/").content.decode()
    assert "Yes: the Apple iPhone 13 mini supports eSIM" in html
    assert 'href="/esim/japan/">Back to your plan' in html
    html = client.get("/devices/?q=iphone 13&plan=https://evil.example/").content.decode()
    assert "evil" not in html
    html = client.get("/devices/?q=nokia 3310").content.decode()
    assert "We couldn't find" in html and "*#06#" in html
    assert client.get("/devices/?q=" + "%00" * 50).status_code == 200
    html = client.get("/devices/apple/").content.decode()
    assert "Apple iPhone 13 mini" in html and "Apple iPhone X" in html
    assert client.get("/devices/nobody/").status_code == 404


def test_policy_pages_are_editable_content(client, japan):
    for slug, title in [
        ("refund-policy", "Refund policy"),
        ("terms", "Terms of service"),
        ("privacy", "Privacy policy"),
        ("contact", "Contact us"),
    ]:
        response = client.get(f"/{slug}/")
        assert response.status_code == 200 and f"<h1>{title}</h1>" in response.content.decode()
    assert "Not installed? Full refund." in client.get("/refund-policy/").content.decode()
    footer = client.get("/").content.decode()
    for slug in ("refund-policy", "terms", "privacy", "contact"):
        assert f'href="/{slug}/"' in footer


def test_query_counts_do_not_grow_with_the_catalog(client, japan, django_assert_num_queries):
    asia = DestinationFactory(name="Asia", code="ASIA", slug="asia", geography="regional")
    asia.covers.add(japan)
    PackageFactory(destination=asia)

    store_in_cache()  # the exchange rates (the header's currency picker): refilled once after a flush

    def counts():
        bump_catalog_version()  # nothing cached: every page is rendered
        with django_assert_num_queries(3):  # destination, packages, regions covering it
            client.get("/esim/japan/")
        with django_assert_num_queries(4):  # and with a trip: each region's price for it
            client.get("/esim/japan/?days=10&data=5")
        with django_assert_num_queries(1):  # package with its destination
            client.get("/esim/japan/esim-japan-7days-1gb-all/")
        with django_assert_num_queries(2):  # popular, regions with their country counts
            client.get("/")
        with django_assert_num_queries(1):
            client.get("/destinations/")
        with django_assert_num_queries(3):  # search index: destinations, coverage, aliases
            client.get("/search/suggest/?q=jap")
        with django_assert_num_queries(0):  # then the index is in the cache
            client.get("/search/suggest/?q=japan")
            client.get("/search/?q=asia")
        with django_assert_num_queries(1):  # the device list
            client.get("/devices/?q=pixel+7")

    counts()
    for i in range(40):
        PackageFactory(
            destination=japan, package_id=f"esim-japan-extra-{i}", days=10 + i, data_mb=1024 * (i + 1)
        )
        PackageFactory(destination=asia, package_id=f"esim-asia-extra-{i}", days=10 + i)
        DestinationFactory()
        DeviceFactory()
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
