"""Production credentials: a shop with DEBUG off refuses to start without them.

With DEBUG off the shop is production: every credential comes from the environment, and
start-up stops with ONE ImproperlyConfigured naming every variable that is missing or wrong.
The sandbox defaults are public (they are in this repository): with them anyone can sign a
Stripe event that marks an order paid. A shop with DEBUG off refuses them.

settings.py calls `check_production_settings` once, with its own namespace, after the
credentials are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_str

# The demo's and the tests' key, refused in production: its name says so.
INSECURE_SECRET_KEY = "insecure-dev-key-only-for-demo-and-tests"  # noqa: S105
# The sandboxes' credentials, which are also the settings' defaults.
SANDBOX_SECRETS = {
    "STRIPE_SECRET_KEY": "sk_test_sandbox",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_sandbox",
    "STRIPE_WEBHOOK_SECRET": "whsec_sandbox",
    "ROAMIFY_API_TOKEN": "sandbox-roamify-token",
}
# Values published in this repository that must never guard a real shop.
PUBLIC_SECRET_VALUES = {
    *SANDBOX_SECRETS.values(),
    INSECURE_SECRET_KEY,
    "change-me-to-a-long-random-string",
    "change-me-roamify-webhook-secret",
}
# What production must set; a wholly sandboxed shop (below) may run on SQLite, without Redis or TLS.
PRODUCTION_REQUIRED = [
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "SITE_URL",
    *SANDBOX_SECRETS,
    "ROAMIFY_WEBHOOK_SECRET",
]


def weak_secret_key(key: str) -> bool:
    """Django's own rule for a key that signs sessions, password resets and the shop's links
    (check --deploy's security.W009, only a warning there)."""
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


def wholly_sandboxed(settings: Mapping[str, Any]) -> bool:
    """Whether the shop is wired wholly to the sandboxes with ALLOW_SANDBOX_SECRETS.

    That is for tests, the compose sandbox profile, image builds and benchmarks. It is ignored
    once any Stripe or Roamify secret is real: a public webhook secret would then let anyone
    spend real money.
    """
    return env_bool("ALLOW_SANDBOX_SECRETS") and all(settings[k] == v for k, v in SANDBOX_SECRETS.items())


def production_problems(settings: Mapping[str, Any]) -> dict[str, str]:
    """Each variable production cannot run with, and why (empty: all is well)."""
    problems: dict[str, str] = {}
    sandboxed = settings["SANDBOXED"]
    if not sandboxed:
        problems |= {name: "missing" for name in PRODUCTION_REQUIRED if not env_str(name).strip()}
        if "DATABASE_URL" not in problems and "postgresql" not in settings["DATABASES"]["default"]["ENGINE"]:
            problems["DATABASE_URL"] = "must be a PostgreSQL URL (postgres://...)"
        if "SITE_URL" not in problems and not settings["SITE_URL"].startswith("https://"):
            problems["SITE_URL"] = "must start with https://"
        email_host = settings["EMAIL_HOST"]
        if not email_host and not env_str("EMAIL_BACKEND"):
            problems["EMAIL_HOST"] = "missing (or set EMAIL_BACKEND to your mail provider's backend)"
        elif email_host and settings["EMAIL_HOST_USER"] and not settings["EMAIL_HOST_PASSWORD"]:
            problems["EMAIL_HOST_PASSWORD"] = "missing (EMAIL_HOST_USER is set)"  # noqa: S105 (a reason, no secret)
    elif not settings["SECRET_KEY"]:
        problems["SECRET_KEY"] = "missing"  # noqa: S105 (a reason, no secret)
    secrets = {name: settings[name] for name in ("SECRET_KEY", *SANDBOX_SECRETS, "ROAMIFY_WEBHOOK_SECRET")}
    secrets["EMAIL_HOST_PASSWORD"] = env_str("EMAIL_HOST_PASSWORD", "")
    for name, value in secrets.items():
        if value and value in PUBLIC_SECRET_VALUES and name not in problems:
            problems[name] = "a public sandbox or example value"
    if not sandboxed and "SECRET_KEY" not in problems and weak_secret_key(settings["SECRET_KEY"]):
        problems["SECRET_KEY"] = (
            f"too weak: at least {SECRET_KEY_MIN_LENGTH} characters, {SECRET_KEY_MIN_UNIQUE_CHARACTERS} "
            f"different ones, not starting {SECRET_KEY_INSECURE_PREFIX} (make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if sandboxed:
        for name in SANDBOX_SECRETS:
            problems.pop(name, None)
        if settings["SECRET_KEY"] == INSECURE_SECRET_KEY and env_str("DJANGO_ALLOW_INSECURE_KEY") == "1":
            problems.pop("SECRET_KEY", None)  # image builds and tests (settings.py gives them the key)
    return problems


def check_production_settings(settings: Mapping[str, Any]) -> None:
    """Raise one ImproperlyConfigured naming every problem of `production_problems`."""
    problems = production_problems(settings)
    if problems:
        raise ImproperlyConfigured(
            "DEBUG is off, so these settings must come from the environment (see README, Configuration):\n"
            + "\n".join(f"  {name}: {why}" for name, why in problems.items())
        )
