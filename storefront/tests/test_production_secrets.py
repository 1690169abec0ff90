"""With DEBUG off the shop refuses to start while a secret keeps a public value.

Each case imports the real settings in a fresh interpreter, as gunicorn or a
worker would, so nothing of the test process (settings_test's allowances)
leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_NAMES = ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "ROAMIFY_API_TOKEN"]
REAL = {
    "SECRET_KEY": "k3y-" + "x" * 40,
    "STRIPE_SECRET_KEY": "sk_live_51Hx" + "a" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_51Hx" + "b" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "c" * 32,
    "ROAMIFY_API_TOKEN": "rfy_" + "d" * 32,
}


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Set Django up with the production settings and only the given environment."""
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": "0",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def refused(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The variables the start-up error names."""
    assert result.returncode != 0, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured"), result.stderr
    return set(last.split("value: ", 1)[1].split(". ", 1)[0].split(", "))


def test_sandbox_defaults_are_refused_and_each_is_named(tmp_path):
    assert refused(start(tmp_path, SECRET_KEY=REAL["SECRET_KEY"])) == set(SANDBOX_NAMES)


def test_real_looking_values_start(tmp_path):
    result = start(tmp_path, **REAL)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_the_public_webhook_secret_beside_real_keys_is_refused(tmp_path):
    """The probe's hole: real keys, but events signed with whsec_sandbox would be trusted."""
    env = {**REAL, "STRIPE_WEBHOOK_SECRET": "whsec_sandbox", "ALLOW_SANDBOX_SECRETS": "1"}
    assert refused(start(tmp_path, **env)) == {"STRIPE_WEBHOOK_SECRET"}


def test_allow_sandbox_secrets_lets_a_wholly_sandboxed_shop_start(tmp_path):
    result = start(tmp_path, SECRET_KEY=REAL["SECRET_KEY"], ALLOW_SANDBOX_SECRETS="1")
    assert result.returncode == 0, result.stderr


def test_the_insecure_key_allowance_does_not_cover_sandbox_secrets(tmp_path):
    assert refused(start(tmp_path, DJANGO_ALLOW_INSECURE_KEY="1")) == set(SANDBOX_NAMES)
    # An image build (collectstatic) sets both.
    assert start(tmp_path, DJANGO_ALLOW_INSECURE_KEY="1", ALLOW_SANDBOX_SECRETS="1").returncode == 0


@pytest.mark.parametrize(("name", "value"), [
    ("SECRET_KEY", "change-me-to-a-long-random-string"),  # .env.example's placeholder
    ("ROAMIFY_WEBHOOK_SECRET", "whsec_sandbox"),
    ("EMAIL_HOST_PASSWORD", "sandbox-roamify-token"),
])
def test_other_secrets_with_a_published_value_are_refused(tmp_path, name, value):
    assert refused(start(tmp_path, **{**REAL, name: value, "ALLOW_SANDBOX_SECRETS": "1"})) == {name}


def test_debug_keeps_the_sandbox_defaults(tmp_path):
    assert start(tmp_path, DEBUG="1").returncode == 0
