"""One sandbox process per test session; state reset before every test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandboxes.roamify.testing import RoamifySandbox, SandboxControl


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoamifySandbox]:
    log = tmp_path_factory.mktemp("roamify") / "sandbox.log"
    with RoamifySandbox(seed=1, log_path=log) as sb:
        yield sb


@pytest.fixture
def control(sandbox: RoamifySandbox) -> SandboxControl:
    sandbox.control.reset()
    return sandbox.control


@pytest.fixture
def api(sandbox: RoamifySandbox, control: SandboxControl) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client
