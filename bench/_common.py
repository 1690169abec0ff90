"""What both benchmarks need: a log line, a fresh database, a service check."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

from sandboxes._process import free_port

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

__all__ = ["PG_ADMIN_URL", "answers", "database_url", "free_port", "fresh_database", "log",
           "stop_process_group"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def fresh_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def stop_process_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM a child started with start_new_session=True and its own children; SIGKILL if stuck."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
