"""nginx's access log (deploy/nginx/log-format.conf, included by deploy/nginx/nginx.conf.template):
JSON lines, the request id nginx passes on, and no secret from a URL (order link token, signed
eSIM links, allauth keys), in the URI or the Referer. The shipped config, rendered and run as the
boot test and the container run it, in front of a stub upstream that records what it is sent."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import need, wait_until
from deploy.local import LocalNginx

CASES = {
    "/orders/RE-1/?t=SeCrEt1&session_id=cs_1": "/orders/RE-1/?t=[redacted]&session_id=cs_1",
    "/orders/RE-1/status/?session_id=cs&t=SeCrEt2": "/orders/RE-1/status/?session_id=cs&t=[redacted]",
    "/esim/install/SeCrEt3/": "/esim/install/[redacted]/",
    "/esim/top-up/SeCrEt4/?x=1&t=SeCrEt9": "/esim/top-up/[redacted]/?x=1&t=[redacted]",
    "/accounts/confirm-email/SeCrEt5/": "/accounts/confirm-email/[redacted]/",
    "/cart/back/SeCrEt10/": "/cart/back/[redacted]/",
    "/pt-br/offers/unsubscribe/SeCrEt11/": "/pt-br/offers/unsubscribe/[redacted]/",
    "/accounts/password/reset/key/1-SeCrEt6/": "/accounts/password/reset/key/[redacted]/",
    "/accounts/password/reset/key/1-set-password/": "/accounts/password/reset/key/1-set-password/",
    "/destinations/?to=thailand": "/destinations/?to=thailand",
}


class Upstream(BaseHTTPRequestHandler):
    """The shop's stand-in: answers every GET, remembers the X-Request-ID of each path."""

    seen: dict[str, str] = {}

    def do_GET(self) -> None:  # http.server's name
        self.seen[self.path.split("?")[0]] = self.headers.get("X-Request-ID", "")
        self.send_response(200)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def nginx():
    need(bool(shutil.which("nginx")), "nginx (Debian package)")
    # Not under pytest's tmp_path: nginx may run as `nobody`, who must reach its files.
    workdir = Path(tempfile.mkdtemp(prefix="shop-nginx-log-"))
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    Upstream.seen = {}
    server = LocalNginx(f"127.0.0.1:{upstream.server_port}", workdir / "static", workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        upstream.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


def test_nginx_logs_json_with_the_request_id_and_no_url_secret(nginx):
    with httpx.Client(base_url=nginx.url, timeout=5) as client:
        for url in CASES:
            assert (
                client.get(
                    url, headers={"Referer": "https://shop.example/esim/install/SeCrEt7/?t=SeCrEt8"}
                ).status_code
                == 200
            )
        client.get("/given", headers={"X-Request-ID": "lb-123456"})
        client.get("/mine")
        client.get("/malformed", headers={"X-Request-ID": 'bad id" with {json}'})
        # /metrics is Prometheus's, on web:8000: closed at the edge, never proxied.
        assert client.get("/metrics").status_code == 404

    def logged() -> dict[str, dict]:  # buffered: nginx writes its log once a second
        lines = [line for line in nginx.log().splitlines() if line.startswith("{")]
        return {entry["uri"]: entry for entry in map(json.loads, lines)}

    wait_until(lambda: len(logged()) == len(CASES) + 4, 10, what="nginx's access log")
    text = nginx.log()
    assert all(json.loads(line) for line in text.splitlines() if line.strip())  # every line JSON
    entries = logged()
    assert [entries[expected]["uri"] for expected in CASES.values()] == list(CASES.values())
    assert "SeCrEt" not in text
    assert (
        entries["/destinations/?to=thailand"]["referer"]
        == "https://shop.example/esim/install/[redacted]/?t=[redacted]"
    )
    # The id logged is the one the shop got: the caller's when well formed, else nginx's own.
    assert entries["/given"]["request_id"] == Upstream.seen["/given"] == "lb-123456"
    for path in ("/mine", "/malformed"):
        assert re.fullmatch(r"[0-9a-f]{32}", entries[path]["request_id"]), entries[path]
        assert Upstream.seen[path] == entries[path]["request_id"]
    assert entries["/metrics"]["status"] == 404 and "/metrics" not in Upstream.seen
