"""Every skip goes through conftest.py's `need`, which REQUIRE_SERVICES=1 (CI) turns into a failure.

A direct `pytest.skip`, `pytest.importorskip` or `skipif` skips on CI too: a test that needs
PostgreSQL or Chromium would then pass by not running. This reads every Python file of the
project and fails on any way to skip (or expect a failure) outside `need`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped

import conftest

ROOT = Path(__file__).resolve().parent.parent
NOT_OURS = {".venv", "node_modules", "test-artifacts", "var", "results", ".git"}
# Attributes that skip a test or let a failing one pass: pytest.skip, pytest.importorskip,
# pytest.mark.skip(if), pytest.xfail and pytest.mark.xfail (a non-strict xfail passes when the
# test fails), unittest's skip, skipIf, skipUnless and TestCase.skipTest.
SKIPPING = {"skip", "importorskip", "skipif", "xfail", "skipIf", "skipUnless", "skipTest", "SkipTest"}
THE_HELPER = ("conftest.py", "need")


def python_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.py") if not NOT_OURS & set(p.relative_to(root).parts)]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


class _Finder(ast.NodeVisitor):
    def __init__(self, where: str) -> None:
        self.where = where
        self.function = ""
        self.found: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def _report(self, node: ast.AST, what: str) -> None:
        if (self.where, self.function) != THE_HELPER:
            self.found.append(f"{self.where}:{node.lineno}: {what}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = _dotted(node)
        if node.attr in SKIPPING and name.split(".")[0] in {"pytest", "unittest", "self"}:
            self._report(node, name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module in {"pytest", "unittest"}:
            for alias in node.names:
                if alias.name in SKIPPING:
                    self._report(node, f"from {node.module} import {alias.name}")


def direct_skips(root: Path = ROOT) -> list[str]:
    found = []
    for path in python_files(root):
        where = str(path.relative_to(root))
        finder = _Finder(where)
        finder.visit(ast.parse(path.read_text(), filename=where))
        found += finder.found
    return found


def test_every_skip_goes_through_need():
    assert direct_skips() == [], "skip with conftest.need(condition, what) (or a fixture that calls it)"


def test_the_check_finds_each_way_to_skip(tmp_path):
    # So that the test above can fail: one file per way, and the helper itself allowed.
    sources = {
        "a/tests/test_a.py": "import pytest\ndef test():\n    pytest.skip('no db')\n",
        "a/tests/test_b.py": "import pytest\nplaywright = pytest.importorskip('playwright')\n",
        "a/tests/test_c.py": "import pytest\n@pytest.mark.skipif(True, reason='x')\ndef test(): ...\n",
        "a/tests/test_d.py": "import pytest\n@pytest.mark.skip\ndef test(): ...\n",
        "a/tests/test_e.py": "import pytest\n@pytest.mark.xfail\ndef test(): ...\n",
        "a/tests/test_f.py": "from pytest import skip\n",
        "a/tests/test_g.py": "import unittest\n@unittest.skipIf(True, 'x')\nclass T(unittest.TestCase):\n"
        "    def test(self):\n        self.skipTest('x')\n",
        "a/conftest.py": "import pytest\ndef need():\n    pytest.skip('not the root conftest')\n",
        "conftest.py": "import pytest\ndef need():\n    pytest.skip('the one helper')\n"
        "def other():\n    pytest.skip('but only in need')\n",
        ".venv/lib/x.py": "import pytest\npytest.skip('not ours')\n",
    }
    for name, source in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    found = [line.split(": ")[0] for line in direct_skips(tmp_path)]
    assert sorted(found) == [
        "a/conftest.py:3",
        "a/tests/test_a.py:3",
        "a/tests/test_b.py:2",
        "a/tests/test_c.py:2",
        "a/tests/test_d.py:2",
        "a/tests/test_e.py:2",
        "a/tests/test_f.py:1",
        "a/tests/test_g.py:2",
        "a/tests/test_g.py:5",
        "conftest.py:5",
    ]


def test_need_skips_and_fails_under_require_services(monkeypatch):
    conftest.need(True, "anything")  # present: nothing happens
    monkeypatch.setattr(conftest, "REQUIRE_SERVICES", False)
    with pytest.raises(Skipped, match="PostgreSQL is not available"):
        conftest.need(False, "PostgreSQL")
    monkeypatch.setattr(conftest, "REQUIRE_SERVICES", True)
    with pytest.raises(Failed, match="PostgreSQL is required"):
        conftest.need(False, "PostgreSQL")
