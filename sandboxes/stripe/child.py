"""localstripe as a child process. Stdlib only at import time, so `__main__`
can start it before loading aiohttp and our app (the two start-ups overlap).

localstripe is GPL-3.0: it runs unmodified in its own process and we only talk
to it over HTTP; nothing here imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

log = logging.getLogger("sandboxes.stripe")

# The command the brief fixes: localstripe's own app on loopback (its CLI binds
# every interface). The port comes in as argv[1].
_CHILD_CODE = (
    "import sys, aiohttp.web; from localstripe.server import app; "
    "aiohttp.web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]))"
)
# The same with localstripe's state kept in memory only (`--no-state-file`): it pickles its whole
# store to a file on every write, so each payment costs more than the one before (a payment took
# 16 ms when it was the first, 110 ms after 500, all on localstripe's one thread). Its code on disk
# is untouched; only this process skips the write.
_CHILD_CODE_NO_STATE_FILE = (
    "import sys, aiohttp.web, localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
    + _CHILD_CODE.removeprefix("import sys, aiohttp.web; ")
)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # If the front is SIGKILLed it cannot clean up: have the kernel TERM
    # localstripe when its parent goes away (Linux only; harmless elsewhere).
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalStripeProcess:
    def __init__(self, port: int, *, state_file: bool = True) -> None:
        self.port = port
        self.state_file = state_file
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        # Own working dir and TMPDIR per instance. (localstripe 1.15.10 still
        # writes its pickle to the hard-coded /tmp/localstripe.pickle; we never
        # ask it to load that file, so instances do not share state.)
        self.workdir = tempfile.mkdtemp(prefix="stripe-sandbox-localstripe-")
        env = {**os.environ, "TMPDIR": self.workdir, "PYTHONUNBUFFERED": "1"}
        code = _CHILD_CODE if self.state_file else _CHILD_CODE_NO_STATE_FILE
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.port)],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.info("localstripe pid %s on %s", self.proc.pid, self.url)

    async def wait_ready(self, timeout: float = 15.0) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"localstripe exited with {self.proc and self.proc.returncode}")
                try:
                    async with http.get(
                        self.url + "/v1/events?limit=1",
                        headers={"Authorization": "Bearer sk_test_sandbox"},
                        timeout=aiohttp.ClientTimeout(total=1),
                    ) as r:
                        if r.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"localstripe did not answer on {self.url} in {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
