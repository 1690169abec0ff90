"""Fixtures that run the Roamify sandbox (sandboxes/roamify) over real HTTP.

The sandbox starts lazily, once per session, only for tests that ask for it.
If it cannot be imported or started the tests skip, unless REQUIRE_SERVICES=1
(CI), where that is a failure (the project's `need`, conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from conftest import need
from roamify import RoamifyClient


def _run_sandbox(**kwargs: Any) -> Iterator[Any]:
    try:
        from sandboxes.roamify.testing import RoamifySandbox
    except Exception as exc:  # ImportError, or a sandbox module that is mid-edit
        need(False, f"The Roamify sandbox (not importable: {exc!r})")
    with ExitStack() as stack:
        try:
            sandbox = stack.enter_context(RoamifySandbox(seed=1, **kwargs))
        except Exception as exc:
            need(False, f"The Roamify sandbox (it did not start: {exc!r})")
        yield sandbox


@pytest.fixture(scope="session")
def roamify_sandbox() -> Iterator[Any]:
    """The default sandbox (catalog paged by destination group)."""
    yield from _run_sandbox()


@pytest.fixture(scope="session")
def roamify_sandbox_package_paging() -> Iterator[Any]:
    """A second sandbox whose catalog pages single packages."""
    yield from _run_sandbox(extra_args=["--page-mode", "package"])


@pytest.fixture
def sandbox(roamify_sandbox: Any) -> Any:
    """The session sandbox, reset to its seeded state for this test."""
    roamify_sandbox.control.reset()
    return roamify_sandbox


@pytest.fixture
def roamify(sandbox: Any) -> Iterator[RoamifyClient]:
    """A client on the fresh sandbox, with tiny backoff so retries are fast."""
    with RoamifyClient(
        base_url=sandbox.base_url,
        token=sandbox.token,
        timeout=10.0,
        backoff_base=0.01,
        max_retries=3,
    ) as client:
        yield client
