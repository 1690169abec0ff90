"""pip-audit on the pinned requirements, in `make test`.

pip-audit needs a vulnerability list, and it has no offline mode: it asks PyPI's JSON API
(which publishes the PyPA advisory database) or OSV. No current copy of that list is published
as a package on PyPI (safety-db, the only one, stopped in 2021, and auditing 2026 pins against
it would say "no known vulnerability" without meaning it). So: when the list can be reached,
audit and fail on any known vulnerability; when it cannot (no network, as on an isolated
machine), say so clearly and pass, so that `make test` never fails for a missing network.

Set PIP_AUDIT_REQUIRED=1 (as on a CI with network) to fail instead of skipping. `--probe` only
checks whether the list can be reached (exit 0 when it can, 1 with the reason when not), with
the standard library alone: .ci/run asks it before the virtualenv exists, and requires the audit
only where the list answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The service pip-audit's default ("pypi") queries, for a release with known vulnerabilities: a
# mirror that answers /pypi/NAME/json but not per release, or without the vulnerabilities field,
# would let pip-audit report "No known vulnerabilities found" having audited nothing (seen here).
PROBE = "https://pypi.org/pypi/django/3.2/json"


def list_reachable(timeout: float = 5.0) -> str | None:
    """None when the vulnerability list answers; otherwise why not."""
    try:
        with urllib.request.urlopen(PROBE, timeout=timeout) as response:
            if not json.load(response).get("vulnerabilities"):
                return "PyPI's JSON API answered without the advisories of a release known to have some"
    except Exception as exc:  # any failure means the same thing here: no list to audit against
        return f"{PROBE} did not answer ({type(exc).__name__}: {exc})"
    return None


def main(argv: list[str]) -> int:
    if argv not in ([], ["--probe"]):
        print("usage: audit_deps.py [--probe]", file=sys.stderr)
        return 2
    if argv == ["--probe"]:
        why_not = list_reachable()
        print(why_not or f"{PROBE} answers with the advisories")
        return 1 if why_not else 0
    why_not = list_reachable()
    if why_not:
        message = f"pip-audit SKIPPED: no vulnerability list can be reached ({why_not})."
        print(message)
        return 1 if os.environ.get("PIP_AUDIT_REQUIRED") == "1" else 0
    # Both files by name (a nested "-r" is not followed with --disable-pip); --strict fails when
    # any pin could not be looked up, rather than passing it unaudited.
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--strict",
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--requirement",
        str(ROOT / "requirements.txt"),
        "--requirement",
        str(ROOT / "requirements-dev.txt"),
    ]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
