"""Several real processes sharing one database: what one does, the others honour.

Each peer (tests/peer.py) is a separate Python process like a gunicorn worker, with its own
in-process state; they share the database (a SQLite file, or the PostgreSQL test database) and,
in the "redis" runs, a Redis. In the "locmem" runs every peer has its own LocMemCache, the
default install: correctness must come from the database alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

REDIS_URL = "redis://127.0.0.1:6379/15"
CHECK_INTERVAL = 1  # KEY_CACHE_CHECK_INTERVAL of the peers
ROOT = Path(__file__).resolve().parent.parent


class Peer:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.peer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def receive(self) -> str:
        return self.process.stdout.readline().strip()

    def __call__(self, command: str) -> str:
        self.send(command)
        return self.receive()

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


def at_once(peers: list[Peer], command: str) -> list[str]:
    """Send ``command`` to every peer before reading any answer, so they race."""
    for peer in peers:
        peer("sync")  # imports done, connections open: the race is the command itself
    for peer in peers:
        peer.send(command)
    return [peer.receive() for peer in peers]


def eventually(check, timeout: float) -> float | None:
    """Seconds until ``check()`` held, or None if it did not within ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start <= timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once per session)."""
    path = tmp_path_factory.mktemp("multiprocess") / "template.sqlite3"
    env = {**_base_env(), "OIDC_TEST_SQLITE_FILE": str(path)}
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    return path


def _base_env() -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "OIDC_TEST_KEY_CACHE_CHECK_INTERVAL": str(CHECK_INTERVAL),
        "OIDC_TEST_REVOCATION_CHECK": "database",
    }
    env.pop("OIDC_TEST_REDIS_URL", None)
    return env


@pytest.fixture(params=["locmem", "redis"])
def peers(request, transactional_db, tmp_path):
    """``peers(n)`` starts n processes on one database; the first has set up keys and clients."""
    env = _base_env()
    if connection.vendor == "postgresql":
        env["OIDC_TEST_DB_NAME"] = connection.settings_dict["NAME"]
    else:
        database = tmp_path / "shared.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), database)
        env.pop("DATABASE_URL", None)
        env["OIDC_TEST_SQLITE_FILE"] = str(database)
    if request.param == "redis":
        if not redis_available():
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        env["OIDC_TEST_REDIS_URL"] = REDIS_URL
        env["OIDC_TEST_REDIS_PREFIX"] = f"multiprocess-{uuid.uuid4().hex}"
    started: list[Peer] = []

    def start(n: int = 2) -> list[Peer]:
        new = [Peer(env) for _ in range(n)]
        started.extend(new)
        if len(started) == n:
            assert new[0]("setup") == "ready"
        return new

    yield start
    for peer in started:
        peer.close()


def test_a_rotation_in_one_process_is_served_by_the_other_within_the_interval(peers):
    a, b = peers(2)
    token = a("token cc-client")
    assert b("validate " + token).startswith("ok ")
    old_active = b("active")

    new_active = a("rotate")  # like `manage.py oidc_keys rotate` on another process or host
    assert new_active != old_active
    delay = eventually(lambda: b("active") == new_active, timeout=CHECK_INTERVAL + 4)
    assert delay is not None, "the other process still signs with the old key"
    assert b("validate " + token).startswith("ok ")  # retired keys still validate

    a(f"revoke-key {old_active}")
    assert eventually(
        lambda: b("validate " + token) == "invalid Token is signed by an unknown key.",
        timeout=CHECK_INTERVAL + 4,
    )


def test_a_revocation_in_one_process_is_refused_by_the_other(peers):
    a, b = peers(2)
    token = a("token cc-client")
    assert b(f"api {token}") == "200"
    assert a(f"revoke-token cc-client {token}") == "200"
    assert eventually(lambda: b(f"api {token}") == "401", timeout=CHECK_INTERVAL + 4)


def test_an_assertion_jti_is_accepted_exactly_once_across_processes(peers):
    racers = peers(4)
    for _ in range(3):
        jti = uuid.uuid4().hex
        answers = at_once(racers, f"claim client-1 {jti}")
        assert sorted(answers) == ["accepted"] + ["replayed"] * 3, answers
    assert racers[0]("claim client-2 same-jti") == "accepted"  # jtis are per client
    assert racers[1]("claim client-1 same-jti") == "accepted"


def test_a_code_reused_on_another_process_revokes_its_tokens(peers):
    a, b = peers(2)
    code, verifier = a("code code-client alice").split()
    status, token = a(f"exchange code-client {code} {verifier}").split()
    assert status == "200" and b(f"api {token}") == "200"
    assert b(f"exchange code-client {code} {verifier}") == "400 invalid_grant"
    assert eventually(lambda: a(f"api {token}") == "401", timeout=CHECK_INTERVAL + 4)
    assert b("validate " + token).startswith("ok ")  # signature fine: the revocation list refuses it


def test_a_code_redeemed_by_several_processes_at_once_succeeds_once(peers):
    racers = peers(4)
    code, verifier = racers[0]("code code-client alice").split()
    answers = at_once(racers, f"exchange code-client {code} {verifier}")
    statuses = sorted(answer.split()[0] for answer in answers)
    assert statuses.count("200") == 1, answers
    # The others lose: invalid_grant, or (SQLite's default locking, "database is locked") a
    # retryable 503 temporarily_unavailable; never a 500.
    assert set(statuses) <= {"200", "400", "503"}, answers
    assert all(
        a.split()[1] in ("invalid_grant", "temporarily_unavailable") for a in answers if a[:3] != "200"
    )


def test_a_client_setting_saved_in_one_process_reaches_the_other(peers):
    a, b = peers(2)
    assert b("lifetime cc-client") == "None"
    a("set-lifetime cc-client 60")
    assert eventually(lambda: b("lifetime cc-client") == "60", timeout=CHECK_INTERVAL + 4)
