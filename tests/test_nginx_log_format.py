"""nginx's access log format (deploy/nginx-log-format.conf): JSON lines, the request id, and no
secret from a URL (order link token, signed eSIM links, allauth keys), in the URI or the Referer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx

from conftest import need, wait_for_http
from sandboxes._process import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CASES = {
    "/orders/RE-1/?t=SeCrEt1&session_id=cs_1": "/orders/RE-1/?t=[redacted]&session_id=cs_1",
    "/orders/RE-1/status/?session_id=cs&t=SeCrEt2": "/orders/RE-1/status/?session_id=cs&t=[redacted]",
    "/esim/install/SeCrEt3/": "/esim/install/[redacted]/",
    "/esim/top-up/SeCrEt4/?x=1&t=SeCrEt9": "/esim/top-up/[redacted]/?x=1&t=[redacted]",
    "/accounts/confirm-email/SeCrEt5/": "/accounts/confirm-email/[redacted]/",
    "/accounts/password/reset/key/1-SeCrEt6/": "/accounts/password/reset/key/[redacted]/",
    "/accounts/password/reset/key/1-set-password/": "/accounts/password/reset/key/1-set-password/",
    "/destinations/?to=thailand": "/destinations/?to=thailand",
}


def test_nginx_logs_json_with_the_request_id_and_no_url_secret(tmp_path):
    need(os.path.exists(NGINX), "nginx")
    port = free_port()
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    temp = " ".join(f"{kind}_temp_path {tmp_path / 'tmp'};" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf.write_text(f"""
daemon off;
pid {tmp_path / 'nginx.pid'};
error_log {tmp_path / 'error.log'};
events {{}}
http {{
    {temp}
    include {ROOT / 'deploy' / 'nginx-log-format.conf'};
    server {{
        listen 127.0.0.1:{port};
        access_log {tmp_path / 'access.log'} shop_json;
        location / {{ return 200 "ok"; }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/ready")
        for url in CASES:
            httpx.get(f"http://127.0.0.1:{port}{url}", timeout=5,
                      headers={"Referer": "https://shop.example/esim/install/SeCrEt7/?t=SeCrEt8"})
        httpx.get(f"http://127.0.0.1:{port}/given", headers={"X-Request-ID": "lb-123456"}, timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = (tmp_path / "access.log").read_text()
    entries = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    logged = {e["uri"]: e for e in entries}
    assert [logged[expected]["uri"] for expected in CASES.values()] == list(CASES.values())
    assert "SeCrEt" not in text
    assert logged["/destinations/?to=thailand"]["referer"] == \
        "https://shop.example/esim/install/[redacted]/?t=[redacted]"
    assert logged["/given"]["request_id"] == "lb-123456"
    assert len(logged["/ready"]["request_id"]) == 32  # nginx's own when none was given
