"""Run the deploy pieces outside containers, as tests/deploy and bench/edge_bench.py do.

nginx's config is rendered from the same template, with the same variables, as the
container's entrypoint does with envsubst (deploy/nginx/entrypoint.sh).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
NGINX_TEMPLATE = DEPLOY / "nginx" / "nginx.conf.template"
NGINX_ENTRYPOINT = DEPLOY / "nginx" / "entrypoint.sh"
# Included by the template from beside the rendered nginx.conf (copied there, as the entrypoint does).
NGINX_LOG_FORMAT = DEPLOY / "nginx" / "log-format.conf"


def nginx_variables() -> list[str]:
    """The names the entrypoint's envsubst replaces (its explicit list, in order)."""
    match = re.search(r"envsubst '([^']*)'", NGINX_ENTRYPOINT.read_text())
    if not match:
        raise RuntimeError(f"no envsubst '...' list in {NGINX_ENTRYPOINT}")
    return re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", match.group(1))


def render_nginx_conf(values: dict[str, str]) -> str:
    """The template with ${NAME} replaced for the entrypoint's names, as envsubst does."""
    names = nginx_variables()
    missing = set(names) - set(values)
    if missing:
        raise KeyError(f"no value for {', '.join(sorted(missing))}")
    pattern = re.compile(r"\$\{(" + "|".join(names) + r")\}|\$(" + "|".join(names) + r")\b")
    return pattern.sub(lambda m: values[m.group(1) or m.group(2)], NGINX_TEMPLATE.read_text())


def write_nginx_conf(path: Path, values: dict[str, str]) -> None:
    """The rendered config at `path`, with the files it includes beside it (as the entrypoint)."""
    path.write_text(render_nginx_conf(values))
    shutil.copyfile(NGINX_LOG_FORMAT, path.parent / NGINX_LOG_FORMAT.name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalNginx:
    """nginx from the template on a free loopback port, its cache and run files in `workdir`.

    Started as root (as here), it is run as `nobody` instead: the config must work unprivileged,
    as in the container, and nginx's workers would be `nobody` anyway.
    """

    def __init__(self, upstream: str, static_root: Path, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.run_dir = workdir / "nginx-run"
        self.cache_dir = workdir / "nginx-cache"
        self.log_path = workdir / "nginx.log"
        self.values = {
            "NGINX_LISTEN": f"127.0.0.1:{self.port}",
            "SHOP_UPSTREAM": upstream,
            "STATIC_ROOT": str(static_root),
            "NGINX_CACHE_DIR": str(self.cache_dir),
            "NGINX_RUN_DIR": str(self.run_dir),
            "NGINX_REAL_IP_FROM": "127.0.0.1",
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        for path in (self.run_dir, self.cache_dir):
            path.mkdir(parents=True, exist_ok=True)
        conf = self.run_dir / "nginx.conf"
        write_nginx_conf(conf, self.values)
        self.log_path.touch()
        user = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chmod(self.workdir, 0o755)  # noqa: S103 (nobody must reach the files in it; nothing secret there)
            for path in (self.run_dir, self.cache_dir, self.log_path):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our own nginx and config)
                [nginx, "-e", "stderr", "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **user,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.proc.returncode}):\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # nginx's fast shutdown; workers follow their master
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
