"""The example project as a new user runs it (its own settings: SQLite, LocMemCache) under
``gunicorn -w 2``: how long until both workers serve a key rotated from the command line?

    python bench/demo_rotation.py

Loopback only, bounded (about 30 s): a throwaway demo database, one gunicorn with two workers on
a free port, ``manage.py oidc_keys rotate``, then the JWKS read over new connections (so both
workers answer; the access log counts them) until 15 s after the rotation. Exit status 1 if an
answer still lacked the new key after KEY_CACHE_CHECK_INTERVAL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port  # noqa: E402
from bench.soak import request, wait_for_port  # noqa: E402

INTERVAL = 5  # KEY_CACHE_CHECK_INTERVAL of the example project (the default)


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="oidc_demo_rotation_"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
        "DEMO_DB": str(workdir / "demo.sqlite3"),
    }
    env.pop("DATABASE_URL", None)

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("oidc_demo_setup")
    port = free_port()
    access_log = workdir / "access.log"
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile"]
    server = subprocess.Popen(
        [*command, str(access_log), "--access-logformat", "%(p)s", "example_project.wsgi:application"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[float, bool]] = []
    try:
        wait_for_port(port, server)
        for _ in range(20):  # both workers load their key ring
            request(port, "GET", "/o/.well-known/jwks.json")
        output = manage("oidc_keys", "rotate", "--alg", "RS256")
        rotated = time.monotonic()
        new_next = output.strip().split("next ")[-1].rstrip(".")
        while time.monotonic() - rotated < 15:
            _, body = request(port, "GET", "/o/.well-known/jwks.json")
            kids = {key["kid"] for key in (body or {}).get("keys", [])}
            samples.append((time.monotonic() - rotated, new_next in kids))
            time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stale = [at for at, fresh in samples if not fresh]
    workers = Counter(line.strip() for line in access_log.read_text().splitlines())
    last_stale = max(stale, default=0.0)
    print(f"example project, gunicorn -w 2, LocMemCache, KEY_CACHE_CHECK_INTERVAL {INTERVAL} s")
    print(f"  JWKS reads after `oidc_keys rotate`: {len(samples)}, by worker: {dict(workers)}")
    print(f"  last answer without the new key: {last_stale:.1f} s after the command returned")
    return 1 if last_stale > INTERVAL + 1 or len(workers) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
