"""`make demo`: the whole shop on this machine with one command.

Migrates, creates an admin, starts both sandboxes (Roamify, Stripe), loads
the sandbox catalog, then runs a Celery worker (with beat) and the site on
http://127.0.0.1:8000. No PostgreSQL or Redis needed: SQLite, a file cache
and a filesystem broker stand in. Ctrl-C stops everything.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandboxes._process import SandboxProcess  # noqa: E402

VAR = ROOT / "var" / "demo"
SITE = "http://127.0.0.1:8000"
ADMIN_EMAIL = "admin@example.com"


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    # The Roamify sandbox signs its webhooks with this; a new one per demo machine.
    roamify_secret_file = VAR / "roamify-webhook-secret.txt"
    if not roamify_secret_file.exists():
        roamify_secret_file.write_text(secrets.token_hex(24))
    roamify_secret = roamify_secret_file.read_text().strip()
    for folder in ("processed", "control"):  # the filesystem broker's (see settings)
        (VAR / "broker" / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DEBUG": os.environ.get("DEBUG", "1"),
        "VAR_DIR": str(VAR),
        "SITE_URL": SITE,
        "ROAMIFY_BASE_URL": "http://127.0.0.1:8100",
        "ROAMIFY_API_TOKEN": "sandbox-roamify-token",
        "ROAMIFY_WEBHOOK_SECRET": roamify_secret,
        "STRIPE_API_BASE": "http://127.0.0.1:8420",
        "STRIPE_SECRET_KEY": "sk_test_sandbox",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_sandbox",
        "STRIPE_WEBHOOK_SECRET": "whsec_sandbox",
        "PYTHONUNBUFFERED": "1",
        # A friend's order earns its referrer credit 2 minutes after it is paid, not after the
        # 30-day refund window, and beat settles referrals every minute: seen within the demo.
        "REFERRAL_REWARD_AFTER_SECONDS": os.environ.get("REFERRAL_REWARD_AFTER_SECONDS", "120"),
        "REFERRAL_SETTLE_INTERVAL_SECONDS": os.environ.get("REFERRAL_SETTLE_INTERVAL_SECONDS", "60"),
    }
    os.environ.update(env)
    py = sys.executable
    manage = [py, str(ROOT / "manage.py")]

    def run(*args: str) -> None:
        subprocess.run([*manage, *args], check=True, env=env, cwd=ROOT)

    print("→ Migrating the demo database (SQLite)", flush=True)
    run("migrate", "--no-input", "-v", "0")
    password_file = VAR / "admin-password.txt"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(9))
    password = password_file.read_text().strip()
    # The admin needs two factors: a TOTP secret of the demo's own (add it to an authenticator
    # app), or one of the recovery codes printed below, each good once.
    totp_file = VAR / "admin-totp-secret.txt"
    if not totp_file.exists():
        totp_file.write_text(base64.b32encode(secrets.token_bytes(20)).decode())
    totp_secret = totp_file.read_text().strip()
    admin = subprocess.run(
        [
            *manage,
            "ensure_admin",
            "--email",
            ADMIN_EMAIL,
            "--password",
            password,
            "--totp-secret",
            totp_secret,
        ],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    recovery = admin.stdout.rsplit("recovery codes:", 1)[-1].split()
    recovery_note = " ".join(recovery[:3]) or f"none left (delete {totp_file} for new ones)"

    logs = VAR / "logs"
    logs.mkdir(exist_ok=True)
    # Roamify's webhooks (eSIM status and usage, partner balance) come back to the shop, as Stripe's do.
    roamify = SandboxProcess(
        "sandboxes.roamify",
        [
            "--port",
            "8100",
            "--seed",
            "1",
            "--webhook-url",
            f"{SITE}/roamify/webhook/",
            "--webhook-secret",
            roamify_secret,
        ],
        8100,
        "/api/health",
        log_path=logs / "roamify.log",
    )
    stripe = SandboxProcess(
        "sandboxes.stripe",
        [
            "--port",
            "8420",
            "--webhook-url",
            f"{SITE}/checkout/stripe/webhook/",
            "--webhook-secret",
            "whsec_sandbox",
            "--business-name",
            os.environ.get("SHOP_NAME", "Roam Easy eSIM"),
        ],
        8420,
        "/_control/health",
        log_path=logs / "stripe.log",
        cwd=VAR,
    )
    children: list[subprocess.Popen] = []
    try:
        print("→ Starting the Roamify sandbox on :8100 and the Stripe sandbox on :8420", flush=True)
        roamify.start()
        stripe.start()
        print("→ Loading the sandbox catalog", flush=True)
        run("sync_catalog")
        print("→ Starting a Celery worker (with beat) and the site", flush=True)
        children.append(
            subprocess.Popen(
                [
                    py,
                    "-m",
                    "celery",
                    "-A",
                    "storefront",
                    "worker",
                    "-B",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "-s",
                    str(VAR / "celerybeat-schedule"),
                ],
                env=env,
                cwd=ROOT,
                stdout=open(logs / "worker.log", "ab"),
                stderr=subprocess.STDOUT,
            )
        )
        children.append(
            subprocess.Popen(
                [*manage, "runserver", "127.0.0.1:8000", "--noreload"],
                env=env,
                cwd=ROOT,
                stdout=open(logs / "site.log", "ab"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait_for(f"{SITE}/healthz")
        print(
            f"""
  The shop is running: {SITE}
  Admin:     {SITE}/admin/   login {ADMIN_EMAIL} / {password}, then a two-factor code:
             add this key to an authenticator app: {totp_secret}
             ({otpauth_uri(totp_secret)})
             or use a recovery code, each works once: {recovery_note}
  Outbox:    {SITE}/outbox/  (emails the shop sent; sign in as admin)
  Account:   sign up at {SITE}/accounts/signup/ with the email of a purchase (the
             confirmation link is in the outbox: read it in a private window, signed in
             as admin); your eSIMs, data left and top-ups are at {SITE}/account/
  Growth:    discount codes at {SITE}/admin/discounts/discountcode/add/ (Preview shows the margin);
             a campaign's link: {SITE}/?utm_source=newsletter&utm_campaign=japan; each
             customer's invite link is on {SITE}/account/credit/; the dashboard is /admin/
  Referrals: referral credit arrives after 2 minutes here (after the 30-day refund window live)
  Use data:  curl -X POST http://127.0.0.1:8100/_control/esims/<ICCID>/consume -d '{{"mb": 300}}'
  Test card: 4242 4242 4242 4242, any future date, any CVC
             (4000 0000 0000 0341 is declined, 4000 0025 0000 3155 asks for 3D Secure)
  Logs:      {logs}
  Press Ctrl-C to stop.
""",
            flush=True,
        )
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in the background
        signal.signal(signal.SIGTERM, _stop)
        while all(c.poll() is None for c in children):
            time.sleep(1)
        print("A demo process stopped unexpectedly; see the logs in", logs, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        stripe.stop()
        roamify.stop()


def otpauth_uri(secret: str) -> str:
    """What authenticator apps scan or take as a link (the QR of allauth's own setup page)."""
    from urllib.parse import quote

    shop = os.environ.get("SHOP_NAME", "Roam Easy eSIM")
    return f"otpauth://totp/{quote(shop)}:{quote(ADMIN_EMAIL)}?secret={secret}&issuer={quote(shop)}"


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _wait_for(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


if __name__ == "__main__":
    sys.exit(main())
