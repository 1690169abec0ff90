"""Static files in production: collectstatic (as the image build runs it) writes fingerprinted
names, a manifest, and compressed copies that whitenoise (or nginx) serves."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collectstatic_fingerprints_and_compresses(tmp_path):
    out = tmp_path / "static"
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": "0",
        # The Dockerfile's build step: no real secrets exist at build time.
        "DJANGO_ALLOW_INSECURE_KEY": "1",
        "ALLOW_SANDBOX_SECRETS": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(out),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "staticfiles.json").read_text())["paths"]
    for name in ("css/shop.css", "js/shop.js", "js/order.js", "admin/js/core.js"):
        hashed = manifest[name]
        stem, ext = name.rsplit(".", 1)
        assert hashed.startswith(stem + ".") and hashed.endswith("." + ext) and hashed != name
        assert (out / hashed).is_file()
        assert (out / f"{hashed}.gz").is_file()
        if importlib.util.find_spec("brotli"):
            assert (out / f"{hashed}.br").is_file()
    # Pages link the fingerprinted names, so they can be cached for a year.
    script = (
        "import django; django.setup(); from django.templatetags import static; "
        "print(static.static('css/shop.css'))"
    )
    render = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert render.stdout.strip() == "/static/" + manifest["css/shop.css"], render.stderr
