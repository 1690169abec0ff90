"""The .po files are complete: every language translates every string the code marks.

Reads the catalogs in locale/ (no fuzzy or empty translation, placeholders kept) and compares
them with a fresh extraction, so a string marked later without translations fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from conftest import need

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
DOMAINS = ["django", "djangojs"]


def _locale_dir(language: str) -> str:
    lang, _, region = language.partition("-")
    return f"{lang}_{region.upper()}" if region else lang


def _entries(po: Path) -> list[dict]:
    """msgid, msgstr(s) and flags of each entry, read the way gettext does (concatenated lines)."""
    entries, current, field = [], None, None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current and current.get("msgid") is not None:
                entries.append(current)
            current, field = None, None
            continue
        current = current or {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif m := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) "(.*)"$', line):
            key, index, text = m.group(1), m.group(2), m.group(3)
            if key.startswith("msgstr"):
                field = ("msgstr", index or "0")
                current["msgstr"][field[1]] = text
            else:
                field = (key, None)
                current[key] = text
        elif line.startswith('"') and field:
            text = line[1:-1]
            if field[0] == "msgstr":
                current["msgstr"][field[1]] += text
            else:
                current[field[0]] += text
    return [e for e in entries if e.get("msgid")]  # the header has an empty msgid


def _catalogs() -> list[Path]:
    return sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po"))


def test_every_language_has_its_catalogs():
    for language in LANGUAGES:
        for domain in DOMAINS:
            assert (ROOT / "locale" / _locale_dir(language) / "LC_MESSAGES" / f"{domain}.po").exists(), (
                f"{language}: no {domain}.po (run make messages)"
            )


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_no_empty_or_fuzzy_translation(po):
    entries = _entries(po)
    assert entries, f"{po} has no strings"
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    assert not fuzzy, f"{po}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert not empty, f"{po}: {len(empty)} untranslated, e.g. {empty[:5]}"


@pytest.mark.parametrize("po", _catalogs(), ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_placeholders_and_plurals_check_with_msgfmt(po):
    need(shutil.which("msgfmt"), "msgfmt (Debian's gettext)")
    done = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_catalogs_hold_every_string_the_code_marks(tmp_path):
    """makemessages into a copy: a string marked but missing from the .po files fails here."""
    need(shutil.which("xgettext"), "xgettext (Debian's gettext)")
    work = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "test-artifacts", "staticfiles", "node_modules", "*.mo"
        ),
        symlinks=True,
    )
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "manage.py",
            "makemessages",
            "-l",
            "es",
            "--no-obsolete",
            "--no-location",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "storefront.settings_test", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    fresh = {(e.get("msgctxt"), e["msgid"]) for e in _entries(work / "locale/es/LC_MESSAGES/django.po")}
    kept = {(e.get("msgctxt"), e["msgid"]) for e in _entries(ROOT / "locale/es/LC_MESSAGES/django.po")}
    missing = sorted(m for _c, m in fresh - kept)
    assert not missing, (
        f"{len(missing)} marked strings are not in the catalogs (run make messages): {missing[:5]}"
    )


def test_no_function_hides_gettext_behind_a_local_underscore():
    """`card, _ = …` in a function that also calls `_("…")` makes every call there fail
    (UnboundLocalError) on the path a test may never take: found once, kept out by this."""
    import ast

    found = []
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            names = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == "_"]
            stored = any(isinstance(n.ctx, ast.Store) for n in names)
            called = any(
                isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "_"
                for c in ast.walk(node)
            )
            if stored and called:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not found, found
