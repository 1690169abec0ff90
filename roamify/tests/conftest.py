"""Fixtures that run the Roamify sandbox (sandboxes/roamify) over real HTTP.

The sandbox starts lazily, once per session, only for tests that ask for it.
If it cannot be imported or started the tests skip, unless REQUIRE_SERVICES=1
(CI), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, NoReturn

import pytest

from roamify import RoamifyClient


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _run_sandbox(**kwargs: Any) -> Iterator[Any]:
    try:
        from sandboxes.roamify.testing import RoamifySandbox
    except Exception as exc:  # ImportError, or a sandbox module that is mid-edit
        _unavailable(f"Roamify sandbox not importable: {exc!r}")
    with ExitStack() as stack:
        try:
            sandbox = stack.enter_context(RoamifySandbox(seed=1, **kwargs))
        except Exception as exc:
            _unavailable(f"Roamify sandbox did not start: {exc!r}")
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
