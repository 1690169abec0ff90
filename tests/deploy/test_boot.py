"""Boot the compose file's processes outside containers, with its own commands, behind nginx.

migrate, then gunicorn + celery worker + celery beat (the `command:` of each service in
docker-compose.yml, run as written, with only addresses, ports and paths changed through
the environment) on PostgreSQL (a database of this test's own) and Redis (a DB, key prefix
and queue of its own), and nginx from deploy/nginx/nginx.conf.template on a free port.
Then: /healthz through nginx, each service's own health check, the edge cache (a catalog page
is served by nginx the second time: Django's `shop.access` log does not see it), a signed-in
customer with a cart and an anonymous visitor never getting each other's page, and static
files from nginx.

The client talks to nginx as a TLS-terminating load balancer would: Host shop.test and
X-Forwarded-Proto: https (so production settings, DEBUG=0, apply as on the internet).
"""

from __future__ import annotations

import contextlib
import http.cookies
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bench._common import answers, database_url, fresh_database, stop_process_group
from conftest import need, wait_until
from deploy.local import LocalNginx, free_port

pytestmark = pytest.mark.xdist_group("deploy-boot")

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
HOST = "shop.test"
EMAIL, PASSWORD = "traveller@example.com", "a-long-test-password-7"
PACKAGE = "esim-japan-7days-1gb-all"
EDGE_MAX_AGE = 2
SEED = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from catalog.models import Destination, ExchangeRate, Package
from django.utils import timezone
for code, rate in (("EUR", "0.9215"), ("GBP", "0.7862"), ("JPY", "151.37")):
    ExchangeRate.objects.create(currency=code, per_base=rate, fetched_at=timezone.now())
japan = Destination.objects.create(upstream_id="japan-esims", code="JP", name="Japan", slug="japan",
    geography="local", region="Asia", package_count=1, from_price_cents=499)
Package.objects.create(package_id="{PACKAGE}", destination=japan, name="1 GB - 7 Days", days=7,
    data_mb=1024, activation="first-use", wholesale_cents=300, retail_cents=499,
    price_per_gb_cents=499, upstream_hash="x")
user = get_user_model().objects.create_user(username="{EMAIL}", email="{EMAIL}", password="{PASSWORD}")
EmailAddress.objects.create(user=user, email="{EMAIL}", verified=True, primary=True)
"""


def command(service: str) -> list[str]:
    cmd = SERVICES[service]["command"]
    argv = list(cmd) if isinstance(cmd, list) else shlex.split(cmd)
    # Compose's own interpolation of `${NAME:-default}` (nothing here sets NAME: the default).
    return [re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1], m[2]), arg) for arg in argv]


def healthcheck(service: str) -> list[str]:
    """The service's compose health check as an argv ($$ is compose's escape for $)."""
    test = SERVICES[service]["healthcheck"]["test"]
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", test[1].replace("$$", "$")]
    return [part.replace("/etc/shop-nginx/", str(ROOT / "deploy" / "nginx") + "/") for part in test[1:]]


def service_env(web_env: dict[str, str], service: str) -> dict[str, str]:
    """web's environment without what compose gives web alone (the metrics directory)."""
    web_only = set(SERVICES["web"]["environment"]) - set(SERVICES[service].get("environment") or {})
    return {k: v for k, v in web_env.items() if k not in web_only}


class Process:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
        return True


class Visitor:
    """A browser behind the load balancer: its cookies (Secure ones too) sent by hand."""

    def __init__(self, base_url: str, from_address: str | None = None) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            # Another loopback address (127.0.0.2, ...): another visitor, as nginx sees its peer.
            transport=httpx.HTTPTransport(local_address=from_address) if from_address else None,
            timeout=20,
            headers={"Host": HOST, "X-Forwarded-Proto": "https", "User-Agent": "boot-test"},
        )
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        self.http.cookies.clear()  # only ours are sent, Secure or not
        for raw in response.headers.get_list("set-cookie"):
            for name, morsel in http.cookies.SimpleCookie(raw).items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, referer: str, headers: dict | None = None) -> httpx.Response:
        return self.request(
            "POST",
            path,
            data=data,
            headers={
                "Origin": f"https://{HOST}",
                "Referer": f"https://{HOST}{referer}",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
                **(headers or {}),
            },
        )


class Stack:
    def __init__(self, nginx: LocalNginx, web: Process, env: dict[str, str], processes: list[Process]):
        self.nginx, self.web, self.env, self.processes = nginx, web, env, processes

    def access_lines(self) -> list[dict]:
        """Django's `shop.access` log lines (one per request it answered), from web's JSON log."""
        lines = [json.loads(line) for line in self.web.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("logger") == "shop.access"]

    def django_requests(self, path: str) -> int:
        """GETs of `path` that reached Django: its `shop.access` lines for it.

        Django logs a request as it answers it, and another worker's line may trail its answer:
        a sentinel request straight to gunicorn, once logged, says the earlier lines are in.
        """
        sentinel = f"/log-sentinel-{secrets.token_hex(6)}/"
        httpx.get(f"http://{self.env['GUNICORN_BIND']}{sentinel}", headers={"Host": HOST}, timeout=20)
        wait_until(
            lambda: any(line["path"] == sentinel for line in self.access_lines()),
            10,
            0.05,
            what="Django's access log",
        )
        return sum(
            1 for line in self.access_lines() if line["path"] == path and line["method"] in ("GET", "HEAD")
        )

    def visitor(self, from_address: str | None = None) -> Visitor:
        return Visitor(self.nginx.url, from_address)


@pytest.fixture(scope="module")
def stack(roamify_sandbox) -> Iterator[Stack]:
    need(bool(shutil.which("nginx")), "nginx (Debian package)")
    need(answers("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    need(answers("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    import redis

    run = f"boot{os.getpid()}"
    db_name = f"test_boot_{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="shop-boot-"))
    redis_url = "redis://127.0.0.1:6379/11"  # no one else's DB; a key prefix and queue of this run's own
    web_port = free_port()
    venv_bin = str(Path(sys.executable).parent)
    # The web service's environment from compose, with local addresses and paths for its own.
    env = {
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(workdir)),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "HOSTNAME": socket.gethostname(),
        **{k: str(v) for k, v in SERVICES["web"]["environment"].items()},
        "DATABASE_URL": database_url(db_name),
        "REDIS_URL": redis_url,
        "VAR_DIR": str(workdir / "var"),
        "STATIC_ROOT": str(workdir / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        # What .env would say: production settings, wired to the sandbox.
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "ALLOW_SANDBOX_SECRETS": "1",
        "ROAMIFY_BASE_URL": roamify_sandbox.base_url,
        "ROAMIFY_API_TOKEN": roamify_sandbox.token,
        "CACHE_KEY_PREFIX": run,
        "CELERY_QUEUE": run,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": secrets.token_urlsafe(20),
        # compose's tmpfs, here a directory of this run's own
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        # Short, so that the edge test sees a page go stale and be revalidated.
        "CATALOG_EDGE_MAX_AGE_SECONDS": str(EDGE_MAX_AGE),
    }
    processes: list[Process] = []
    nginx = LocalNginx(f"127.0.0.1:{web_port}", workdir / "static", workdir)
    (workdir / "var").mkdir()  # as the image has /app/var
    try:
        fresh_database(db_name)
        for argv in (
            command("migrate"),
            ["python", "manage.py", "collectstatic", "--no-input", "-v", "0"],
            ["python", "manage.py", "shell", "-c", SEED],
        ):
            done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
        web = Process("web", command("web"), env, workdir)
        processes += [
            web,
            Process("worker", command("worker"), service_env(env, "worker"), workdir),
            Process("beat", command("beat"), service_env(env, "beat"), workdir),
        ]
        nginx.start()
        wait_until(lambda: web.alive() and answers("127.0.0.1", web_port), 30, what="gunicorn")
        wait_until(lambda: processes[1].alive() and "ready." in processes[1].log(), 40, what="celery worker")
        wait_until(lambda: processes[2].alive() and "Acquired lock" in processes[2].log(), 30, what="beat")

        # As a load balancer waits for its first good probe: on a loaded machine a worker's first
        # /healthz (new connections to PostgreSQL, Redis, the broker, upstream) can miss a check's
        # 2 s budget once (seen in a full run), which says nothing about the deploy.
        def healthy() -> bool:
            try:
                return Visitor(nginx.url).get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 60, what="a 200 from /healthz through nginx")
        yield Stack(nginx, web, env, processes)
    finally:
        nginx.stop()
        for process in processes:
            stop_process_group(process.proc, 15)
        client = redis.Redis.from_url(redis_url)
        keys = [
            *client.scan_iter(match=f"{run}*", count=1000),
            *client.scan_iter(match=f"*{run}", count=1000),
        ]
        if keys:
            client.delete(*keys)
        with contextlib.suppress(Exception):
            import psycopg

            from bench._common import PG_ADMIN_URL

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


def test_healthz_answers_ok_through_nginx(stack):
    response = stack.visitor().get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}
    assert response.headers.get("x-cache-status") in (None, "")  # never from the cache


@pytest.mark.parametrize("service", ["web", "worker", "beat", "nginx"])
def test_each_services_compose_health_check_passes(stack, service):
    env = {**stack.env, "NGINX_LISTEN": stack.nginx.values["NGINX_LISTEN"]}
    done = subprocess.run(healthcheck(service), env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{service}: {done.stdout}\n{done.stderr}"


def test_the_beat_health_check_fails_when_no_beat_holds_the_lock(stack):
    # The beats of another queue share another lock, which no beat holds.
    env = {**stack.env, "CELERY_QUEUE": f"{stack.env['CELERY_QUEUE']}-no-beat"}
    done = subprocess.run(healthcheck("beat"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no beat holds it" in done.stdout
    assert not list(Path(stack.env["VAR_DIR"]).glob("celerybeat-schedule*"))  # the schedule is in Redis


def test_a_catalog_page_comes_from_nginx_the_second_time(stack):
    visitor = stack.visitor()
    first = visitor.get("/esim/japan/")
    assert first.status_code == 200 and "Japan" in first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert not first.headers.get("set-cookie")
    assert stack.django_requests("/esim/japan/") == 1
    for _ in range(3):
        again = stack.visitor().get("/esim/japan/")
        assert again.headers["x-cache-status"] == "HIT"
        assert again.text == first.text
    assert stack.django_requests("/esim/japan/") == 1  # Django saw the first request only


def test_languages_have_their_own_pages_at_the_edge_and_the_first_visit_redirect_is_never_shared(stack):
    spanish_page = stack.visitor().get("/es/esim/japan/")
    assert spanish_page.status_code == 200 and '<html lang="es">' in spanish_page.text
    assert stack.visitor().get("/es/esim/japan/").headers["x-cache-status"] == "HIT"
    assert '<html lang="en">' in stack.visitor().get("/esim/japan/").text

    # Fresh dicts each time: a visitor adds its cookies to the headers it is given.
    def english() -> dict:
        return {"Accept-Language": "en-US,en;q=0.9"}

    def spanish() -> dict:
        return {"Accept-Language": "es-ES,es;q=0.9"}

    chose_english = stack.visitor()
    chose_english.cookies["django_language"] = "en"
    chose_english.get("/", headers=spanish())
    assert chose_english.get("/", headers=spanish()).headers["x-cache-status"] == "HIT"
    # A first visit's home page is kept per Accept-Language: never given to another browser.
    stack.visitor().get("/", headers=english())
    assert stack.visitor().get("/", headers=english()).headers["x-cache-status"] == "HIT"
    for _ in range(2):
        visitor = stack.visitor()
        first = visitor.get("/", headers=spanish())
        assert first.status_code == 302 and first.headers["location"] == "/es/", first.headers
        assert first.headers["x-cache-status"] != "HIT"
        assert visitor.cookies.get("django_language") == "es"
        # Once: with its cookie, / is the English home page.
        again = visitor.get("/", headers=spanish())
        assert again.status_code == 200 and '<html lang="en">' in again.text
    # And the redirect was never stored for those who chose English, nor for English browsers
    # (nginx keeps one variant of a URL: who gets a HIT depends on who came last, never the page).
    for visitor, headers in ((chose_english, english()), (stack.visitor(), english())):
        home = visitor.get("/", headers=headers)
        assert home.status_code == 200 and '<html lang="en">' in home.text


def test_a_signed_in_customer_with_a_cart_and_an_anonymous_visitor_never_share_a_page(stack):
    page = f"/esim/japan/{PACKAGE}/"
    customer = stack.visitor()
    login = customer.get("/accounts/login/")
    assert login.status_code == 200 and "csrftoken" in customer.cookies
    signed_in = customer.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD}, "/accounts/login/")
    assert signed_in.status_code == 302, signed_in.text[:500]
    added = customer.post("/cart/add/", {"package": PACKAGE, "quantity": "1"}, page)
    assert added.status_code == 302 and "sessionid" in customer.cookies

    def customers_page() -> httpx.Response:
        response = customer.get(page)
        assert response.status_code == 200
        assert response.headers["x-cache-status"] == "BYPASS"
        assert 'aria-label="1 item"' in response.text and "My account" in response.text
        return response

    def anonymous_page(cache_status: str) -> httpx.Response:
        response = stack.visitor().get(page)
        assert response.status_code == 200
        assert response.headers["x-cache-status"] == cache_status
        assert 'aria-label="1 item"' not in response.text and "My account" not in response.text
        assert "Sign in" in response.text
        return response

    before = stack.django_requests(page)
    customers_page()  # first: had it been stored, the visitor below would get a HIT
    anonymous_page("MISS")
    anonymous_page("HIT")
    customers_page()  # the stored anonymous page is not theirs
    assert stack.django_requests(page) == before + 3
    # A flash message is personal too (it comes by cookie).
    flash = stack.visitor()
    flash.cookies["messages"] = "x"
    assert flash.get(page).headers["x-cache-status"] == "BYPASS"


def test_one_visitors_failed_logins_do_not_lock_out_another(stack):
    """allauth counts failed sign-ins per visitor address: the one nginx puts in X-Real-IP (its TCP
    peer, here 127.0.0.2 and 127.0.0.3), not nginx's own, which every request comes from."""
    too_many = "Too many failed login attempts"
    guesser = stack.visitor(from_address="127.0.0.2")
    guesser.get("/accounts/login/")
    for n in range(11):
        guesser.post(
            "/accounts/login/", {"login": f"made-up-{n}@example.com", "password": "x"}, "/accounts/login/"
        )
    wrong = {"login": EMAIL, "password": "not it"}
    assert too_many in guesser.post("/accounts/login/", wrong, "/accounts/login/").text
    # Claiming another address changes nothing: nginx overwrites X-Real-IP, and believes
    # X-Forwarded-For only from NGINX_REAL_IP_FROM (the load balancer, 127.0.0.1 here).
    claimed = {"X-Real-IP": "127.0.0.3", "X-Forwarded-For": "127.0.0.3"}
    assert too_many in guesser.post("/accounts/login/", wrong, "/accounts/login/", headers=claimed).text

    customer = stack.visitor(from_address="127.0.0.3")
    customer.get("/accounts/login/")
    signed_in = customer.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD}, "/accounts/login/")
    assert signed_in.status_code == 302, signed_in.text[:500]
    # Django's access log names each visitor by the same address.
    stack.django_requests("/accounts/login/")  # waits for the log lines to be in
    posts = [
        line
        for line in stack.access_lines()
        if line["path"] == "/accounts/login/" and line["method"] == "POST"
    ]
    assert {"127.0.0.2", "127.0.0.3"} <= {line["client_ip"] for line in posts}


def test_static_files_are_served_by_nginx_and_cached_for_a_year(stack):
    home = stack.visitor().get("/")
    stylesheet = re.search(r'href="(/static/css/shop\.[0-9a-f]{12}\.css)"', home.text).group(1)
    response = stack.visitor().get(stylesheet, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert "text/css" in response.headers["content-type"]
    assert stack.django_requests(stylesheet) == 0
    assert stack.visitor().get("/static/css/nothing-here.css").status_code == 404


def test_the_edge_follows_djangos_cache_headers(stack):
    """Needs the catalog's HTTP caching headers (Cache-Control with s-maxage, ETag, 304)."""
    page = "/how-it-works/"
    first = stack.visitor().get(page)
    cache_control = first.headers.get("cache-control", "")
    assert "public" in cache_control and "s-maxage" in cache_control, cache_control
    # Strong, as Django sent it: nginx asks for gzip, stores it and passes it on untouched (it
    # weakens the ETag, W/, only of what it zips or unzips itself).
    assert first.headers.get("content-encoding") == "gzip"
    assert first.headers.get("etag", "").startswith('"'), first.headers.get("etag")
    assert "Cookie" in first.headers.get("vary", "")
    customer = stack.visitor()
    customer.cookies["sessionid"] = "not-a-session"
    personal = customer.get(page).headers.get("cache-control", "")
    assert "private" in personal or "no-store" in personal, personal
    # Past s-maxage, nginx serves the stored page and asks Django in the background with
    # If-None-Match; the page has not changed, so Django answers 304 and nginx keeps its copy.
    assert stack.visitor().get(page).headers["x-cache-status"] == "HIT"
    time.sleep(EDGE_MAX_AGE + 1)
    stale = stack.visitor().get(page)
    assert stale.headers["x-cache-status"] in ("STALE", "UPDATING", "REVALIDATED"), stale.headers
    assert stale.text == first.text
    wait_until(
        lambda: any(line["path"] == page and line["status"] == 304 for line in stack.access_lines()),
        10,
        what="Django's 304 to nginx's revalidation",
    )
    assert stack.visitor().get(page).headers["x-cache-status"] in ("HIT", "REVALIDATED")


def test_nginx_logs_no_query_string_and_passes_a_request_id(stack):
    visitor = stack.visitor()
    path = f"/esim/nowhere-{secrets.token_hex(4)}/"  # a page no other test asks for
    visitor.get(f"{path}?t=secret-token-123", headers={"X-Request-ID": "boot-test-request-0001"})
    visitor.get(f"{path}?x=1")  # no id: nginx makes one up

    def logged() -> list[dict]:  # nginx writes its log once a second
        lines = [json.loads(line) for line in stack.nginx.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line["uri"].startswith(path)]

    lines = wait_until(lambda: len(logged()) == 2 and logged(), 10, what="nginx's access log")
    assert lines[0]["uri"] == f"{path}?t=[redacted]"
    assert lines[0]["request_id"] == "boot-test-request-0001"
    assert re.fullmatch(r"[0-9a-f]{32}", lines[1]["request_id"])
    # Django got the same ids, and logged them.
    django = {line["request_id"]: line for line in stack.access_lines() if line["path"].startswith(path)}
    assert set(django) == {"boot-test-request-0001", lines[1]["request_id"]}
    assert django["boot-test-request-0001"]["path"] == f"{path}?t=[redacted]"
    assert "secret-token-123" not in stack.nginx.log() + stack.web.log()


def test_every_line_web_worker_and_beat_write_is_json(stack):
    """Compose's commands as run (celery with -q: no banner), with LOG_FORMAT=json."""
    stack.visitor().get("/")
    for process in stack.processes:
        lines = [line for line in process.log().splitlines() if line.strip()]
        assert lines, process.name
        for line in lines:
            assert line.startswith("{") and json.loads(line), f"{process.name}: {line}"
        assert any(json.loads(line)["logger"].startswith(("gunicorn", "celery")) for line in lines)


def test_metrics_are_closed_at_nginx_and_open_to_prometheus_on_web(stack):
    assert stack.visitor().get("/metrics").status_code == 404
    web = f"http://{stack.env['GUNICORN_BIND']}/metrics"
    home = httpx.get(f"http://{stack.env['GUNICORN_BIND']}/", headers={"Host": HOST}, timeout=20)
    assert home.status_code == 200
    assert httpx.get(web, headers={"Host": HOST}, timeout=20).status_code == 404  # no token
    scraped = httpx.get(
        web, headers={"Host": HOST, "Authorization": f"Bearer {stack.env['METRICS_TOKEN']}"}, timeout=20
    )
    assert scraped.status_code == 200 and "shop_page_cache_requests_total" in scraped.text


def test_two_visitors_in_different_currencies_never_get_each_others_page(stack):
    page = "/esim/japan/?days=7"

    def price(response: httpx.Response) -> str:
        assert response.status_code == 200
        return re.search(r'<span class="price">([^<]+)</span>', response.text)[1]

    def visit(currency: str | None = None, accept: str | None = None) -> httpx.Response:
        visitor = stack.visitor()
        if currency:
            visitor.cookies["currency"] = currency
        return visitor.get(page, headers={"Accept-Language": accept} if accept else {})

    euro, yen = visit("EUR"), visit("JPY")
    assert (price(euro), euro.headers["x-cache-status"]) == ("€4.99", "MISS")
    assert (price(yen), yen.headers["x-cache-status"]) == ("¥780", "MISS")  # not the euro page
    for _ in range(2):
        assert (price(again := visit("EUR")), again.headers["x-cache-status"]) == ("€4.99", "HIT")
        assert (price(again := visit("JPY")), again.headers["x-cache-status"]) == ("¥780", "HIT")
    assert price(visit()) == "$4.99"
    british = visit(accept="en-GB,en;q=0.9")  # no cookie: the region's currency, kept apart by Vary
    assert price(british) == "£3.99" and price(visit()) == "$4.99"
    assert price(visit(accept="en-GB,en;q=0.9")) == "£3.99"
    assert stack.django_requests(page) == 4  # euro, yen, dollars, pounds: each rendered once


def test_a_visits_landing_reaches_django_and_its_cookie_is_never_stored_nor_shared(stack):
    """Attribution (core/attribution.py): a campaign landing, or a first arrival from another site,
    is answered by Django with the visitor's own `visit` cookie, never from the edge cache and never
    stored in it; everything else is cached as before."""
    page = "/esim/japan/"
    stack.visitor().get(page)  # stored at the edge (if an earlier test did not already)
    assert stack.visitor().get(page).headers["x-cache-status"] == "HIT"
    landing_url = f"{page}?utm_source=newsletter&utm_campaign=japan"
    before, landings_before = stack.django_requests(page), stack.django_requests(landing_url)
    cookies = set()
    for i in range(2):
        visitor = stack.visitor()
        mail = {"Referer": f"https://mail{i}.example/"}  # the visit differs: so does its cookie
        landing = visitor.get(landing_url, headers=mail)
        assert landing.status_code == 200 and landing.headers["x-cache-status"] == "BYPASS"
        assert "private" in landing.headers["cache-control"] and "visit" in visitor.cookies
        cookies.add(visitor.cookies["visit"])
        from_a_search = stack.visitor()
        arrival = from_a_search.get(page, headers={"Referer": "https://www.google.com/search"})
        assert arrival.headers["x-cache-status"] == "BYPASS" and "visit" in from_a_search.cookies
        # Then it browses on: its visit is kept, nothing is set, and the page is no longer personal.
        browsing = from_a_search.get(page, headers={"Referer": f"https://{HOST}/"})
        assert browsing.headers["x-cache-status"] != "BYPASS" and not browsing.headers.get("set-cookie")
    assert len(cookies) == 2  # each visitor its own (a stored answer would have given both the same)
    assert stack.django_requests(landing_url) == landings_before + 2
    assert stack.django_requests(page) >= before + 2  # the arrivals (and browsing with a cookie: Vary)
    # A link on our own pages, and a visitor with no Referer, still get the stored page, no cookie.
    for headers in ({"Referer": f"https://{HOST}/"}, {}):
        again = stack.visitor().get(page, headers=headers)
        assert again.headers["x-cache-status"] == "HIT" and not again.headers.get("set-cookie")
