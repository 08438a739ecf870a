"""Multi-node soak: three gunicorn "nodes" on one PostgreSQL database, under load, while keys rotate,
a retired key is revoked, tokens are revoked and the shared Redis restarts.

    python bench/soak.py [--seconds 35] [--cache redis|locmem]      (make soak)

Everything runs on loopback and stops by itself: its own database (created and dropped), its own
redis-server on a free port, three gunicorn servers with 2 workers each on free ports, and a load
generator of a few threads for a fixed time. Reported, and the exit status is 1 unless all are 0:
failures of valid requests, revoked tokens accepted after KEY_CACHE_CHECK_INTERVAL, tokens
signed with a replaced key after the interval. Also the observed propagation delay of each
rotation (until every node's JWKS, sampled repeatedly so both workers answer, has the new key).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import free_port  # noqa: E402

SECRET = "s3cret-client-secret"  # tests.factories.CLIENT_SECRET (the seeded client)

FAILED = "failed"
REVOKED_ACCEPTED = "revoked tokens accepted after the interval"
REVOKED_KEY_ACCEPTED = "tokens of the revoked key accepted after the interval"
STALE_SIGNED = "signed with a replaced key after the interval"
MUST_BE_ZERO = (FAILED, REVOKED_ACCEPTED, REVOKED_KEY_ACCEPTED, STALE_SIGNED)
MARGIN = 1.5  # seconds beyond the interval before a stale answer counts as a failure


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request(port, "GET", "/o/.well-known/jwks.json")[0] == 200:
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


class Redis:
    """A redis-server of our own on a free port, so restarting it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def database(env: dict[str, str]) -> Iterator[None]:
    import psycopg

    name = env["OIDC_SOAK_DB"]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr}")
    return done.stdout


SEED = """
from oidc_provider import keys
from tests.factories import ClientCredentialsApplicationFactory
keys.ensure_active_key("RS256")
ClientCredentialsApplicationFactory(client_id="soak-client")
"""


class Node:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("w")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
        ]
        self.process = subprocess.Popen(
            [*command, "bench.wsgi:application"], cwd=ROOT, env=env, stderr=self.log, stdout=self.log
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def request(port: int, method: str, path: str, body: str | None = None, headers: dict | None = None):
    """(status, parsed JSON or None); a connection error is status 0."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, None
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        connection.close()


BASIC = {
    "Authorization": "Basic " + base64.b64encode(f"soak-client:{SECRET}".encode()).decode(),
    "Content-Type": "application/x-www-form-urlencoded",
}


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


class Soak:
    def __init__(self, ports: list[int], interval: float) -> None:
        self.ports, self.interval = ports, interval
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.tokens: list[tuple[str, str]] = []  # recent (token, kid), for API calls
        self.by_kid: dict[str, list[str]] = {}  # a few tokens signed by each key
        self.revoked: list[tuple[str, float]] = []  # (token, revoked at)
        self.revoked_tokens: set[str] = set()
        self.revoked_kids: dict[str, float] = {}  # kid -> when `oidc_keys revoke` returned
        self.unusable_kids: set[str] = set()  # no longer a valid request from the command on
        self.replaced: dict[str, float] = {}  # kid -> when it stopped being the active key
        self.stop = threading.Event()

    def fail(self, what: str) -> None:
        with self.lock:
            self.counts[FAILED] += 1
            if len(self.failures) < 20:
                self.failures.append(what)

    def token_worker(self) -> None:
        """Token requests round the nodes, one at a time (the client secret is checked with the
        client-secret hasher of the README's install: one HMAC, not PBKDF2)."""
        for port in itertools.cycle(self.ports):
            if self.stop.is_set():
                return
            status, body = request(
                port, "POST", "/o/token/", "grant_type=client_credentials&scope=read", BASIC
            )
            received = time.monotonic()
            with self.lock:
                self.counts["token requests"] += 1
            if status != 200 or not body:
                self.fail(f"token request on :{port} -> {status} {body}")
                continue
            token = body["access_token"]
            kid = kid_of(token)
            replaced_at = self.replaced.get(kid)
            if replaced_at is not None and received > replaced_at + self.interval + MARGIN:
                with self.lock:
                    self.counts[STALE_SIGNED] += 1
            with self.lock:
                self.tokens = [*self.tokens[-50:], (token, kid)]
                samples = self.by_kid.setdefault(kid, [])
                if len(samples) < 5:
                    samples.append(token)

    def api_worker(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                candidates = [t for t in self.tokens if t[1] not in self.unusable_kids]
            if not candidates:
                time.sleep(0.05)
                continue
            token, _ = random.choice(candidates)
            port = random.choice(self.ports)
            status, _ = request(port, "GET", "/api/orders", headers={"Authorization": f"Bearer {token}"})
            with self.lock:
                self.counts["API calls"] += 1
                still_valid = token not in self.revoked_tokens and kid_of(token) not in self.unusable_kids
            if status != 200 and still_valid:
                self.fail(f"API call on :{port} -> {status}")

    def revoke_a_token(self) -> None:
        with self.lock:
            if not self.tokens:
                return
            token, _ = self.tokens.pop(random.randrange(len(self.tokens)))
            self.revoked_tokens.add(token)  # no longer a valid request from now on
        status, _ = request(random.choice(self.ports), "POST", "/o/revoke_token/", f"token={token}", BASIC)
        with self.lock:
            self.counts["token revocations"] += 1
        if status != 200:
            self.fail(f"revocation -> {status}")
            return
        self.revoked.append((token, time.monotonic()))

    def probe_revoked(self) -> None:
        """Every revoked token and tokens of a revoked key, on every node, once the interval has
        passed: each must be 401."""
        now = time.monotonic()
        probes = [(token, at, REVOKED_ACCEPTED) for token, at in self.revoked]
        for kid, at in self.revoked_kids.items():
            probes += [(token, at, REVOKED_KEY_ACCEPTED) for token in self.by_kid.get(kid, [])]
        for token, at, label in probes:
            if now < at + self.interval + MARGIN:
                continue
            for port in self.ports:
                status, _ = request(port, "GET", "/api/orders", headers={"Authorization": f"Bearer {token}"})
                with self.lock:
                    self.counts["revoked-token probes"] += 1
                    if status == 200:
                        self.counts[label] += 1

    def propagation(self, kid: str, timeout: float) -> float | None:
        """Seconds until five successive JWKS reads from every node list ``kid``."""
        start = time.monotonic()
        pending = {port: 0 for port in self.ports}
        while pending and time.monotonic() - start < timeout:
            for port in list(pending):
                status, body = request(port, "GET", "/o/.well-known/jwks.json")
                ok = status == 200 and any(k["kid"] == kid for k in (body or {}).get("keys", []))
                pending[port] = pending[port] + 1 if ok else 0
                if pending[port] >= 5:
                    del pending[port]
            time.sleep(0.05)
        return None if pending else time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=35, help="duration of the load (default 35)")
    parser.add_argument("--cache", choices=["redis", "locmem"], default="redis")
    parser.add_argument(
        "--interval", type=int, default=5, help="KEY_CACHE_CHECK_INTERVAL (default 5, the default)"
    )
    options = parser.parse_args()
    seconds = max(options.seconds, 30)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.soak_settings",
        "OIDC_SOAK_DB": f"oidc_soak_{os.getpid()}",
        "OIDC_SOAK_INTERVAL": str(options.interval),
    }
    env.pop("DATABASE_URL", None)
    redis = Redis()
    if options.cache == "redis":
        redis.start()
        env["OIDC_SOAK_REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"oidc_soak_{os.getpid()}"
    logs.mkdir(exist_ok=True)
    nodes: list[Node] = []
    report: dict[str, object] = {}
    try:
        with database(env):
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(env, "shell", "-c", SEED)
            nodes = [Node(env, logs / f"node{i}.log") for i in range(3)]
            for node in nodes:
                wait_for_port(node.port, node.process)
            soak = Soak([n.port for n in nodes], options.interval)
            report = run(soak, env, redis if options.cache == "redis" else None, seconds)
    finally:
        for node in nodes:
            with contextlib.suppress(Exception):
                node.stop()
        redis.stop()
    print_report(report, options, logs)
    return (
        1 if any(report["counts"].get(name) for name in MUST_BE_ZERO) or None in report["propagation"] else 0
    )


def current_keys(env: dict[str, str]) -> dict[str, str]:
    """kid -> state, read from the database (quicker than starting `oidc_keys list`)."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{env['OIDC_SOAK_DB']}") as connection:
        return dict(connection.execute("SELECT kid, state FROM oidc_provider_signingkey").fetchall())


def rotate(soak: Soak, env: dict[str, str]) -> float | None:
    before = current_keys(env)
    active = next(kid for kid, state in before.items() if state == "active")
    manage(env, "oidc_keys", "rotate", "--alg", "RS256")
    soak.replaced[active] = time.monotonic()
    created = next(kid for kid, state in current_keys(env).items() if state == "next" and kid not in before)
    return soak.propagation(created, timeout=soak.interval + 10)


def run(soak: Soak, env: dict[str, str], redis: Redis | None, seconds: int) -> dict[str, object]:
    threads = [threading.Thread(target=soak.token_worker)]
    threads += [threading.Thread(target=soak.api_worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    propagation: list[float | None] = []
    events: list[str] = []
    plan = [(0.15, "rotate"), (0.35, "restart redis"), (0.5, "rotate"), (0.65, "revoke retired key")]
    if redis is None:
        plan.pop(1)
    next_revocation = started + 3
    try:
        # Until the load time is over and every event happened (bounded: at most twice the time).
        while (time.monotonic() - started < seconds or plan) and time.monotonic() - started < 2 * seconds:
            elapsed = (time.monotonic() - started) / seconds
            if plan and elapsed >= plan[0][0]:
                _, action = plan.pop(0)
                events.append(f"{time.monotonic() - started:5.1f}s {action}")
                if action == "rotate":
                    propagation.append(rotate(soak, env))
                elif action == "restart redis":
                    redis.stop()
                    time.sleep(2)  # requests keep coming while it is down
                    redis.start()
                elif action == "revoke retired key":
                    retired = next(kid for kid, state in current_keys(env).items() if state == "retired")
                    soak.unusable_kids.add(retired)
                    manage(env, "oidc_keys", "revoke", retired)
                    soak.revoked_kids[retired] = time.monotonic()
            if time.monotonic() >= next_revocation:
                soak.revoke_a_token()
                next_revocation = time.monotonic() + 3
            soak.probe_revoked()
            time.sleep(0.2)
    finally:
        soak.stop.set()
        for thread in threads:
            thread.join(timeout=60)
    # The last revocations too: wait out their interval, then probe every node.
    latest = max([at for _, at in soak.revoked] + list(soak.revoked_kids.values()), default=0.0)
    time.sleep(max(0.0, latest + soak.interval + MARGIN - time.monotonic()))
    soak.probe_revoked()
    return {
        "counts": dict(soak.counts),
        "propagation": propagation,
        "events": events,
        "failures": soak.failures,
    }


def print_report(report: dict, options: argparse.Namespace, logs: Path) -> None:
    counts = report.get("counts", {})
    print(
        f"Multi-node soak: 3 gunicorn nodes x 2 workers, PostgreSQL, cache {options.cache}, "
        f"KEY_CACHE_CHECK_INTERVAL {options.interval} s, {options.seconds} s of load"
    )
    for event in report.get("events", []):
        print(f"  {event}")
    for name in ("token requests", "API calls", "token revocations", "revoked-token probes"):
        print(f"  {name:54} {counts.get(name, 0)}")
    for name in MUST_BE_ZERO:
        label = "failures of valid requests" if name == FAILED else name
        print(f"  {label:54} {counts.get(name, 0)}   (must be 0)")
    delays = ", ".join("never" if d is None else f"{d:.1f} s" for d in report.get("propagation", []))
    print(f"  {'rotation propagation to every node':54} {delays}")
    for failure in report.get("failures", []):
        print(f"  ! {failure}")
    print(f"  server logs: {logs}")


if __name__ == "__main__":
    sys.exit(main())
