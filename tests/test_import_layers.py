"""The arrows between apps run one way, as docs/architecture.md draws them (from the design).

Reads every module's imports (not tests or migrations, which may use any app
for fixtures and history) and fails on an import the design forbids.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP_APPS = {
    "core",
    "catalog",
    "checkout",
    "payments",
    "esims",
    "accounts",
    "giftcards",
    "discounts",
    "storecredit",
}
PROJECT = {"storefront"}
ALL = SHOP_APPS | PROJECT | {"roamify", "sandboxes"}

# What each package may import of the project's own packages (itself always).
ALLOWED: dict[str, set[str]] = {
    "core": {"roamify"},  # it builds the one upstream client from settings
    "roamify": set(),
    "catalog": {"core", "roamify"},
    "payments": {"core"},
    "esims": {"core", "roamify"},
    "giftcards": {"core", "payments", "catalog"},  # catalog.currency: the visitor's currency and rates
    "discounts": {"core", "catalog"},  # codes scoped to destinations and packages, floored at cost
    "storecredit": {"core", "payments"},
    "checkout": {"core", "catalog", "payments", "esims", "giftcards", "discounts", "storecredit", "roamify"},
    "accounts": {"core", "checkout", "esims", "giftcards", "catalog", "discounts", "storecredit"},
    # The project package is wiring: settings, URLs (by dotted string), Celery, /healthz.
    "storefront": {"core"},
    "sandboxes": set(),
}
STDLIB = set(sys.stdlib_module_names)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules(package: str, root: Path):
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for package, allowed in ALLOWED.items():
        for path in modules(package, root):
            for name in imports_of(path) & ALL - {package} - allowed:
                found.append(f"{path.relative_to(root)} imports {name}")
    for path in modules("roamify", root):
        if "django" in imports_of(path):
            found.append(f"{path.relative_to(root)} imports django (roamify is a plain client)")
    return found


def test_the_arrows_between_apps_run_one_way():
    assert violations() == []


def test_every_app_of_the_shop_is_covered():
    packages = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)


def test_the_check_catches_forbidden_imports(tmp_path):
    # So that the test above can fail: a small tree with one wrong arrow of each kind.
    for path, source in {
        "payments/views.py": "from checkout.models import Order\n",
        "storefront/urls.py": "from catalog.views import home\n",
        "roamify/client.py": "from django.conf import settings\n",
        "esims/services.py": "import sandboxes.roamify\n",
        "payments/tests/test_x.py": "from checkout import services\n",  # tests may
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source)
    assert sorted(violations(tmp_path)) == [
        "esims/services.py imports sandboxes",
        "payments/views.py imports checkout",
        "roamify/client.py imports django (roamify is a plain client)",
        "storefront/urls.py imports catalog",
    ]
