"""Settings for the test suite: the real settings, with test-friendly defaults.

PostgreSQL and Redis are used when they answer on their usual local ports
(as they do on CI); without them the suite falls back to SQLite and a local
cache, and the tests that need them skip (or fail under REQUIRE_SERVICES=1).
"""

import os
import socket


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


os.environ.setdefault("DJANGO_ALLOW_INSECURE_KEY", "1")
# The suite talks only to the sandboxes, so their public keys are fine here (see settings.py).
os.environ.setdefault("ALLOW_SANDBOX_SECRETS", "1")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))
if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
if "REDIS_URL" not in os.environ and _answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"  # broker
    os.environ.setdefault("CACHE_REDIS_URL", "redis://127.0.0.1:6379/14")

# Each test process has a queue of its own, shared with the Celery workers it starts
# (which are told so by SHOP_TEST_WORKER); xdist workers inherit the controller's
# environment, so the name is set anew in each test process.
if not os.environ.get("SHOP_TEST_WORKER"):
    os.environ["CELERY_QUEUE"] = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
# Every request reads the catalog version, so a sync in a worker shows at once (tests that
# exercise the in-memory interval set it themselves).
os.environ.setdefault("CATALOG_VERSION_CHECK_SECONDS", "0")
os.environ.setdefault("CELERY_VISIBILITY_TIMEOUT", "8")
os.environ.setdefault("CELERY_UNACKED_RESTORE_INTERVAL", "1")
os.environ.setdefault("CELERY_UNACKED_RESTORE_THROTTLE", "1")
os.environ.setdefault("CELERY_UNACKED_MUTEX_EXPIRE", "2")

from .settings import *  # noqa: E402

# Providers with no outside service, for tests that pay without Stripe (also in test workers).
PAYMENT_PROVIDERS = [
    *PAYMENT_PROVIDERS,
    "payments.tests.providers.InstantProvider",
    "payments.tests.providers.HoldProvider",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
# A test that shares its cache with the Celery worker it starts passes its prefix on.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("TEST_CACHE_KEY_PREFIX") or f"test{os.getpid()}"
if os.environ.get("TEST_DATABASE_NAME"):  # lets several suites share one server
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
