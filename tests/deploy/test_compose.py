"""The compose file, the Dockerfile and the nginx template, read as files (no container engine here).

What the shop reads from its environment is found by scanning the source, so that a new
setting cannot ship without being passed in compose or listed in .env.example, and
documented in the README's Configuration table.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import need
from deploy.local import NGINX_LOG_FORMAT, NGINX_TEMPLATE, nginx_variables, render_nginx_conf

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ("nginx", "web", "worker", "beat", "postgres", "redis")
SHOP = ("web", "worker", "beat", "migrate")
# Where the shop's settings are read: the project package, the apps, the deploy files.
SOURCE_DIRS = (
    "storefront",
    "core",
    "catalog",
    "checkout",
    "payments",
    "esims",
    "accounts",
    "giftcards",
    "roamify",
    "deploy",
)
ENV_READ = re.compile(
    r"""(?:env_(?:str|int|bool|list)\(|os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def env_reads(root: Path = ROOT) -> dict[str, str]:
    """Every environment variable the shop's code reads, with a file that reads it."""
    found: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in (root / folder).rglob("*.py"):
            rel = path.relative_to(root)
            if "tests" in rel.parts or path.name == "settings_test.py":
                continue
            for name in ENV_READ.findall(path.read_text()):
                found.setdefault(name, str(rel))
    return found


def env_example(root: Path = ROOT) -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.M))


def readme_configuration(root: Path = ROOT) -> set[str]:
    """The names in the first column of the README's Configuration table."""
    text = (root / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def compose_environment() -> set[str]:
    names: set[str] = set()
    for service in SERVICES.values():
        env = service.get("environment") or {}
        names |= set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}
    return names


def test_the_scan_finds_every_kind_of_read(tmp_path):
    # So that the checks below can fail: each way of reading the environment is seen.
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "settings.py").write_text(
        'A = env_str("ALPHA", "")\nB = env_int( "BETA", 1)\nC = os.environ.get("GAMMA")\n'
        'D = os.environ["DELTA"]\nE = os.getenv("EPSILON")\nF = env_bool("ZETA")\nG = env_list("ETA", [])\n'
    )
    (tmp_path / "core" / "tests").mkdir()
    (tmp_path / "core" / "tests" / "test_x.py").write_text('os.environ.get("NOT_THIS")\n')
    assert set(env_reads(tmp_path)) == {"ALPHA", "BETA", "GAMMA", "DELTA", "EPSILON", "ZETA", "ETA"}


def test_every_setting_the_shop_reads_is_passed_or_listed_and_documented():
    reads = env_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "GUNICORN_BIND", "WEB_CONCURRENCY"} <= set(reads)
    provided = compose_environment() | env_example()
    not_provided = {name: where for name, where in reads.items() if name not in provided}
    assert not not_provided, f"neither passed in docker-compose.yml nor in .env.example: {not_provided}"
    undocumented = {name: where for name, where in reads.items() if name not in readme_configuration()}
    assert not undocumented, f"read but not in README's Configuration table: {undocumented}"


def test_the_services_are_all_there():
    assert set(LONG_RUNNING) | {"migrate", "roamify-sandbox", "stripe-sandbox"} <= set(SERVICES)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_each_long_running_service_has_a_healthcheck_and_a_restart_policy(name):
    service = SERVICES[name]
    assert service["healthcheck"]["test"], name
    assert service["restart"] in ("always", "unless-stopped"), name


def test_data_lives_in_named_volumes():
    volumes = set(COMPOSE["volumes"])
    mounts = {name: {v.split(":")[0] for v in SERVICES[name].get("volumes", [])} for name in SERVICES}
    assert "pgdata" in mounts["postgres"] & volumes
    assert "redisdata" in mounts["redis"] & volumes
    assert "nginx-cache" in mounts["nginx"] & volumes
    assert "--appendonly" in SERVICES["redis"]["command"]  # queued tasks survive a restart


def test_beat_runs_as_its_own_service_and_keeps_nothing_on_its_machine():
    """So that every machine may run one: the schedule and its lock are in Redis (RedBeat, which
    the settings choose when the broker is Redis), not in a file on one machine's volume."""
    beat = SERVICES["beat"]
    assert "volumes" not in beat and "beat" not in COMPOSE["volumes"]
    assert "beat" in beat["command"]
    assert not {"-S", "--scheduler", "-s", "--schedule"} & set(beat["command"])
    assert "-B" not in SERVICES["worker"]["command"]  # beat's own health check and restarts


def test_migrations_run_once_before_web_worker_and_beat():
    migrate = SERVICES["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["command"][:3] == ["python", "manage.py", "migrate"]
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    assert SERVICES["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_only_nginx_is_published_and_web_runs_gunicorn_with_its_config():
    assert SERVICES["web"]["command"] == [
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "storefront.wsgi:application",
    ]
    published = {
        name for name, service in SERVICES.items() if service.get("ports") and "profiles" not in service
    }
    assert published == {"nginx"}  # X-Real-IP and X-Forwarded-Proto can only come from nginx


def test_the_shop_services_read_the_env_file_and_build_the_web_target():
    for name in SHOP:
        assert SERVICES[name]["env_file"] == ".env", name
        assert SERVICES[name]["build"]["target"] == "web", name
    assert SERVICES["nginx"]["build"]["target"] == "nginx"
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_sandboxes_are_only_in_the_sandbox_profile():
    in_profile = {name for name, s in SERVICES.items() if "sandbox" in s.get("profiles", [])}
    assert in_profile == {"roamify-sandbox", "stripe-sandbox"}
    assert all("profiles" not in SERVICES[name] for name in (*LONG_RUNNING, "migrate"))


def test_the_dockerfile_has_stages_and_runs_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, re.M | re.I)
    names = [name for _, name in stages]
    assert len(stages) >= 4 and {"builder", "web", "nginx", "sandbox"} <= set(names)
    assert names[-1] == "web"  # `docker build .` builds the shop
    assert dict((n, base) for base, n in stages)["web"] == "base"
    assert "python:3.11-slim-bookworm" in text and "debian:bookworm-slim" in text
    # Each final image (web, nginx, sandbox) switches to a non-root user.
    blocks = re.split(r"^FROM\s", text, flags=re.M)[1:]
    for block in blocks:
        name = block.split()[2] if len(block.split()) > 2 else ""
        if name in ("web", "nginx", "sandbox"):
            users = re.findall(r"^USER\s+(\S+)", block, re.M)
            assert users and users[-1] not in ("root", "0"), name
            assert name == "sandbox" or "HEALTHCHECK" in block, name
    assert "collectstatic" in text


def test_the_nginx_template_has_only_the_entrypoints_variables():
    text = NGINX_TEMPLATE.read_text()
    upper = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
    assert upper == set(nginx_variables())
    values = {name: f"<{name}>" for name in nginx_variables()}
    rendered = render_nginx_conf(values)
    assert not re.search(r"\$\{?[A-Z]", rendered)
    assert "$upstream_cache_status" in rendered and "$shop_request_id" in rendered  # nginx's own kept


def test_envsubst_renders_the_template_as_the_tests_do():
    envsubst = shutil.which("envsubst")
    need(bool(envsubst), "envsubst (Debian's gettext-base)")
    values = {name: f"value-of-{name.lower()}" for name in nginx_variables()}
    shell_format = " ".join(f"${{{name}}}" for name in nginx_variables())
    done = subprocess.run(
        [envsubst, shell_format],
        input=NGINX_TEMPLATE.read_text(),
        env=values,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == render_nginx_conf(values)


def test_nginx_logs_with_the_one_redacting_format_and_closes_metrics():
    """The template logs with deploy/nginx/log-format.conf's shop_json (its redaction is run
    through nginx by tests/test_nginx_log_format.py), which logs no raw URL nor Referer."""
    text = NGINX_TEMPLATE.read_text()
    assert re.search(r"^\s*include log-format\.conf;", text, re.M)
    assert "log_format" not in text and "map $http_x_request_id" not in text  # one source
    assert re.findall(r"^\s*access_log (\S+) (\S+)", text, re.M) == [("/dev/stdout", "shop_json")]
    assert re.search(r"location = /metrics \{\s*return 404;", text)
    log_format = re.search(r"^log_format shop_json [^;]+;", NGINX_LOG_FORMAT.read_text(), re.M).group(0)
    assert "$shop_loggable_uri" in log_format and "$shop_loggable_referer" in log_format
    for leaky in (
        "$uri",
        "$request_uri",
        '$request"',
        "$request ",
        "$args",
        "$query_string",
        "$http_referer",
        "$arg_",
    ):
        assert leaky not in log_format, leaky
    gunicorn = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    access = re.search(r"access_log_format = (.+)", gunicorn).group(1)
    assert "%(U)s" in access and not re.search(r"%\((r|q|f)\)s", access)
    assert "gunicorn_logconfig(" in gunicorn


def test_the_nginx_image_has_the_included_log_format_beside_the_template():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY deploy/nginx/ /etc/shop-nginx/" in dockerfile
    entrypoint = (ROOT / "deploy" / "nginx" / "entrypoint.sh").read_text()
    assert 'cp "$(dirname "$template")/log-format.conf" "$NGINX_RUN_DIR/log-format.conf"' in entrypoint


def test_nginx_bypasses_the_cache_for_the_shops_personal_cookies():
    from django.conf import settings

    from catalog.cache import PERSONAL_COOKIES

    text = NGINX_TEMPLATE.read_text()
    cookie_map = text.split("map $http_cookie $shop_personal", 1)[1].split("}", 1)[0]
    for name in (settings.SESSION_COOKIE_NAME, *PERSONAL_COOKIES):
        assert name in cookie_map
    for directive in ("proxy_cache_bypass", "proxy_no_cache"):
        assert "$shop_personal" in re.search(rf"{directive} ([^;]+);", text).group(1)
    assert "$upstream_http_set_cookie" in re.search(r"proxy_no_cache ([^;]+);", text).group(1)


def test_the_containers_entrypoint_renders_a_config_nginx_accepts(tmp_path):
    need(bool(shutil.which("nginx")) and bool(shutil.which("envsubst")), "nginx and envsubst")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/bin",
        "NGINX_TEMPLATE": str(NGINX_TEMPLATE),
        "NGINX_RUN_DIR": str(tmp_path / "run"),
        "NGINX_CACHE_DIR": str(tmp_path / "cache"),
        "STATIC_ROOT": str(tmp_path),
        "NGINX_LISTEN": "127.0.0.1:8080",
        "SHOP_UPSTREAM": "127.0.0.1:8000",
    }
    done = subprocess.run(
        [str(ROOT / "deploy" / "nginx" / "entrypoint.sh"), "-t"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    rendered = (tmp_path / "run" / "nginx.conf").read_text()
    assert (tmp_path / "run" / "log-format.conf").read_text() == NGINX_LOG_FORMAT.read_text()
    assert "server 127.0.0.1:8000;" in rendered and "set_real_ip_from 127.0.0.1;" in rendered


def test_the_edge_knows_the_catalog_pages_in_every_language():
    from django.conf import settings

    text = NGINX_TEMPLATE.read_text()
    catalog = re.search(r"location ~ \^/\(\(([^)]+)\)/\)\?", text)
    assert catalog, "the catalog location takes an optional language prefix"
    prefixed = {code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE}
    assert set(catalog.group(1).split("|")) == prefixed


def test_the_translations_are_compiled_at_build_and_never_committed():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "compilemessages" in dockerfile and "gettext" in dockerfile
    assert "COPY --from=static /app/locale /app/locale" in dockerfile
    assert "*.mo" in (ROOT / ".gitignore").read_text().splitlines()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert "compilemessages" in re.search(rf"^{target}:(.*)$", makefile, re.M).group(1), target
