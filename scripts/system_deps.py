"""Install the Debian packages the test suite needs, if they are missing.

Chromium drives the browser journeys; libzbar0 lets tests decode the QR
codes the shop emails; the emoji font draws the flags in screenshots, and a Japanese font the
Japanese pages (tests/e2e/test_japanese_journey.py); nginx
(and envsubst, from gettext-base) runs in front of the shop in the boot test
of the deploy files (tests/deploy); gettext's msgfmt compiles the translations (`manage.py
compilemessages`).
Run by `make test` (all of them) and `make demo` (`system_deps.py gettext`: those named only);
a no-op when all are present.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys

NEEDED = {
    "chromium": lambda: os.path.exists("/usr/bin/chromium"),
    "libzbar0": lambda: ctypes.util.find_library("zbar") is not None,
    # Flags are emoji; without this font, screenshots show empty boxes where phones show flags.
    "fonts-noto-color-emoji": lambda: os.path.exists("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    # Likewise Japanese: DejaVu has no kana or kanji, so the /ja/ pages' screenshots were all boxes.
    "fonts-ipafont-gothic": lambda: os.path.exists("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    # The edge cache in front of gunicorn, as in the compose file (tests/deploy boots it).
    "nginx": lambda: bool(shutil.which("nginx")) or os.path.exists("/usr/sbin/nginx"),
    # envsubst renders the nginx template in its container; tests/deploy compares it with ours.
    "gettext-base": lambda: bool(shutil.which("envsubst")),
    # msgfmt: compilemessages turns locale/*/LC_MESSAGES/*.po into the .mo files gettext reads.
    "gettext": lambda: bool(shutil.which("msgfmt")),
}


def main(names: list[str]) -> int:
    wanted = names or list(NEEDED)
    missing = [pkg for pkg in wanted if not NEEDED[pkg]()]
    if not missing:
        return 0
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"Please install these Debian packages first: {' '.join(missing)}", file=sys.stderr)
        return 0 if os.environ.get("REQUIRE_SERVICES") != "1" else 1
    print(f"Installing {' '.join(missing)} from Debian (once)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
