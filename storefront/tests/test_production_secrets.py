"""With DEBUG off the shop is production: it refuses to start while a credential is missing or
keeps a public value, and names every such variable in one ImproperlyConfigured.

Each case imports the real settings in a fresh interpreter, as gunicorn or a worker would, so
nothing of the test process (settings_test's allowances) leaks in.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_NAMES = ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "ROAMIFY_API_TOKEN"]
# A complete production environment with real-looking values.
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://shop:pw@db.internal:5432/shop",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "shop.example.com",
    "SITE_URL": "https://shop.example.com",
    "STRIPE_SECRET_KEY": "sk_live_51Hx" + "a" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_51Hx" + "b" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "c" * 32,
    "ROAMIFY_API_TOKEN": "rfy_" + "d" * 32,
    "ROAMIFY_WEBHOOK_SECRET": "e" * 40,
    "EMAIL_HOST": "smtp.example.com",
}
REQUIRED = [
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "SITE_URL",
    *SANDBOX_NAMES,
    "ROAMIFY_WEBHOOK_SECRET",
    "EMAIL_HOST",
]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python with the production settings and only the given environment."""
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": "0",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, *args], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, "-c", "import django; django.setup(); print('started')", **env)


def refused(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The variables the start-up error names, with the reason given for each."""
    assert result.returncode != 0, result.stdout
    assert "KeyError" not in result.stderr
    head = "django.core.exceptions.ImproperlyConfigured: DEBUG is off, so these settings must come from"
    assert head in result.stderr, result.stderr
    lines = result.stderr.split(head, 1)[1].splitlines()[1:]
    return dict(line.strip().split(": ", 1) for line in lines if line.startswith("  "))


def test_a_complete_production_environment_starts(tmp_path):
    result = start(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_nothing_set_names_every_missing_variable_at_once(tmp_path):
    problems = refused(start(tmp_path, DATABASE_URL=""))
    assert set(problems) == set(REQUIRED)
    assert problems["SECRET_KEY"] == "missing"


@pytest.mark.parametrize("name", REQUIRED)
def test_each_missing_variable_is_named(tmp_path, name):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    if name == "DATABASE_URL":
        env["DATABASE_URL"] = ""  # run() would otherwise give it SQLite
    problems = refused(start(tmp_path, **env))
    assert list(problems) == [name]
    assert problems[name].startswith("missing")


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("DATABASE_URL", "sqlite:///db.sqlite3", "must be a PostgreSQL URL"),
        ("SITE_URL", "http://shop.example.com", "must start with https://"),
    ],
)
def test_production_needs_postgresql_and_https(tmp_path, name, value, why):
    problems = refused(start(tmp_path, **{**PRODUCTION, name: value}))
    assert list(problems) == [name] and problems[name].startswith(why)


def test_an_smtp_user_needs_its_password(tmp_path):
    problems = refused(start(tmp_path, **PRODUCTION, EMAIL_HOST_USER="shop"))
    assert problems == {"EMAIL_HOST_PASSWORD": "missing (EMAIL_HOST_USER is set)"}


def test_a_mail_provider_backend_stands_in_for_smtp(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_HOST"}
    result = start(tmp_path, **env, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert result.returncode == 0, result.stderr


def test_sandbox_defaults_are_refused_and_each_is_named(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k not in SANDBOX_NAMES}
    assert set(refused(start(tmp_path, **env))) == set(SANDBOX_NAMES)  # defaults: the sandbox's values


def test_the_public_webhook_secret_beside_real_keys_is_refused(tmp_path):
    """The probe's hole: real keys, but events signed with whsec_sandbox would be trusted."""
    env = {**PRODUCTION, "STRIPE_WEBHOOK_SECRET": "whsec_sandbox", "ALLOW_SANDBOX_SECRETS": "1"}
    assert refused(start(tmp_path, **env)) == {"STRIPE_WEBHOOK_SECRET": "a public sandbox or example value"}


def test_allow_sandbox_secrets_lets_a_wholly_sandboxed_shop_start(tmp_path):
    """Tests, benchmarks and the compose sandbox profile: SQLite, no Redis, plain HTTP."""
    result = start(tmp_path, SECRET_KEY=PRODUCTION["SECRET_KEY"], ALLOW_SANDBOX_SECRETS="1")
    assert result.returncode == 0, result.stderr


def test_a_sandboxed_shop_still_needs_a_secret_key(tmp_path):
    assert refused(start(tmp_path, ALLOW_SANDBOX_SECRETS="1")) == {"SECRET_KEY": "missing"}


def test_the_insecure_key_allowance_does_not_cover_a_real_shop(tmp_path):
    problems = refused(start(tmp_path, DJANGO_ALLOW_INSECURE_KEY="1"))
    assert problems["SECRET_KEY"] == "missing"
    assert set(SANDBOX_NAMES) <= set(problems)
    problems = refused(start(tmp_path, **{**PRODUCTION, "SECRET_KEY": ""}, DJANGO_ALLOW_INSECURE_KEY="1"))
    assert problems == {"SECRET_KEY": "missing"}
    # An image build (collectstatic) sets both.
    assert start(tmp_path, DJANGO_ALLOW_INSECURE_KEY="1", ALLOW_SANDBOX_SECRETS="1").returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "change-me-to-a-long-random-string"),  # .env.example's placeholder
        ("ROAMIFY_WEBHOOK_SECRET", "whsec_sandbox"),
        ("EMAIL_HOST_PASSWORD", "sandbox-roamify-token"),
    ],
)
def test_other_secrets_with_a_published_value_are_refused(tmp_path, name, value):
    env = {**PRODUCTION, name: value, "ALLOW_SANDBOX_SECRETS": "1"}
    assert refused(start(tmp_path, **env)) == {name: "a public sandbox or example value"}


@pytest.mark.parametrize(
    "key",
    [
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM",  # 49 characters: Django wants 50
        "ab" * 40,  # long, but 2 different characters
        "django-insecure-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",  # startproject's throwaway
    ],
    ids=["short", "few-characters", "django-insecure"],
)
def test_a_weak_secret_key_is_refused(tmp_path, key):
    """Django's own rule (check --deploy's W009, only a warning there) stops start-up here."""
    problems = refused(start(tmp_path, **{**PRODUCTION, "SECRET_KEY": key}))
    assert list(problems) == ["SECRET_KEY"]
    assert problems["SECRET_KEY"].startswith("too weak")


def test_debug_keeps_the_sandbox_defaults(tmp_path):
    assert start(tmp_path, DEBUG="1").returncode == 0


@pytest.mark.parametrize(("preload", "silenced"), [("0", 1), ("1", 0)])
def test_check_deploy_is_clean_under_production_settings(tmp_path, preload, silenced):
    """Not one warning. The only silenced check is W021 (HSTS preload), an owner's opt-in."""
    result = run(
        tmp_path,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        SECURE_HSTS_PRELOAD=preload,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == f"System check identified no issues ({silenced} silenced)."
