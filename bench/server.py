"""Scenario 6's tools: gunicorn (2 workers) and the peer on loopback, a load generator bounded in time.

node-oidc-provider, the peer, runs from bench/peer when ``npm install`` has been run there.
The load generator is wrk when installed (Debian's ``wrk``), else a small Python client with
keep-alive connections in threads; the table names which one ran.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_reachable() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, probe: str, name: str) -> Iterator[str]:
    """Run ``command`` until ``probe`` answers on ``port`` (30 s at most); yields the base URL."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", probe)
                if connection.getresponse().status < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def gunicorn(db_name: str, workers: int = 2, stock_dot: bool = False, hashers: str = "default"):
    """Serve bench.wsgi on a free loopback port with ``db_name``, sharing Redis as production
    would when it is reachable; ``stock_dot``: DOT as shipped; ``hashers``: a configuration of
    bench/settings.py HASHER_CONFIGS."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "OIDC_TEST_DB_NAME": db_name,
        "BENCH_HASHERS": hashers,
    }
    if redis_reachable():
        env["OIDC_TEST_REDIS_URL"] = REDIS_URL
    if stock_dot:
        env["BENCH_STOCK_DOT"] = "1"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "bench.wsgi:application"]
    return _serving(command, env, port, "/api/none", "gunicorn")


PEER = ROOT / "bench" / "peer"


def peer_available() -> bool:
    return bool(shutil.which("node")) and (PEER / "node_modules" / "oidc-provider").is_dir()


def peer(client_id: str, secret: str, workers: int = 2):
    """node-oidc-provider (bench/peer/server.mjs) with ``workers`` processes on loopback."""
    port = free_port()
    command = ["node", str(PEER / "server.mjs"), str(port), str(workers), client_id, secret]
    return _serving(command, dict(os.environ), port, "/.well-known/openid-configuration", "the peer")


def load_generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def load(
    url: str, seconds: int, headers: dict[str, str], body: str | None = None
) -> tuple[float, int, float]:
    """(2xx responses per second, responses that were not 2xx, p99 latency in ms) for
    ``seconds`` of load on ``url``."""
    if load_generator() == "wrk":
        return _wrk(url, seconds, headers, body)
    return _python_client(url, seconds, headers, body)


def _wrk(url: str, seconds: int, headers: dict[str, str], body: str | None) -> tuple[float, int, float]:
    script = ""
    if body is not None:
        script = f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        command = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "--timeout", "10s"]
        command += ["-s", lua.name, url]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(lua.name)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(failed.group(1)) if failed else 0
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return (total - errors) / seconds, errors, p99


def _python_client(
    url: str, seconds: int, headers: dict[str, str], body: str | None
) -> tuple[float, int, float]:
    host, _, rest = url.removeprefix("http://").partition("/")
    hostname, port = host.split(":")
    if body is not None:
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection(hostname, int(port), timeout=10)
        ok = errors = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                connection.request("POST" if body else "GET", "/" + rest, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if 200 <= response.status < 300:
                    ok += 1
                else:
                    errors += 1
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
            except (OSError, http.client.HTTPException):
                connection.close()  # the server closed the connection (sync workers): reconnect
                errors += 1
        with lock:
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return counts["ok"] / seconds, counts["errors"], p99
