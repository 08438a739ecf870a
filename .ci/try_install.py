"""Follow README.md's install section, line by line, in a new Django project with the built wheel.

    python .ci/try_install.py --python python3.12 --constraints requirements/django-6.0.txt dist/*.whl

Run by `nox -s install` (part of `make test`) once per Django/Python pair. In a temporary folder:
1. a clean venv of that interpreter; the README's `<!-- try_install: pip -->` block is run with the
   wheel in place of `dot-oidc-jwt` and the pair's pins as constraints;
2. `django-admin startproject mysite .`; the `settings.py` and `urls.py` blocks are appended to the
   files startproject wrote;
3. the `key` block's output becomes `OIDC_ENCRYPTION_KEY`; every line of the `shell` block runs
   (migrate, creating a signing key, check);
4. one client-credentials client, then `runserver` on a free loopback port: discovery (also at the
   RFC 8414 root URL), JWKS and one token request, whose access token must be an RFC 9068 JWT
   signed by a published key.
Exits non-zero, printing the failing step, when any of it fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- try_install: (?P<kind>[\w.]+) -->\s*```\w*\n(?P<body>.*?)```", re.S)
KINDS = ("pip", "settings.py", "urls.py", "key", "shell")
CLIENT_ID, CLIENT_SECRET = "try-install", "try-install-secret-0123456789"
CREATE_CLIENT = f"""
from oauth2_provider.models import get_application_model
get_application_model().objects.create(
    name="try_install", client_id="{CLIENT_ID}", client_secret="{CLIENT_SECRET}",
    client_type="confidential", authorization_grant_type="client-credentials",
)
"""
DEADLINE = 60  # seconds for runserver to answer


def readme_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for match in BLOCK.finditer((ROOT / "README.md").read_text()):
        if match["kind"] in blocks:
            sys.exit(f"README.md has two `try_install: {match['kind']}` blocks")
        blocks[match["kind"]] = match["body"]
    missing = [kind for kind in KINDS if kind not in blocks]
    if missing:
        sys.exit(f"README.md lacks the `<!-- try_install: ... -->` blocks {missing}")
    return blocks


def commands(block: str) -> list[str]:
    """The block's command lines, without comments (a `#` after a space starts one)."""
    lines = (re.split(r"\s+#\s", line, maxsplit=1)[0].strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run(cmd: str, cwd: Path, env: dict[str, str], capture: bool = False) -> str:
    print(f"+ {cmd}", flush=True)
    done = subprocess.run(
        cmd, shell=True, cwd=cwd, env=env, text=True, timeout=600, capture_output=capture, check=False
    )
    if done.returncode:
        sys.exit(f"!! step failed ({done.returncode}): {cmd}\n{done.stdout or ''}{done.stderr or ''}")
    return done.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read(1 << 20))


def b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def token_request(base: str) -> None:
    """Discovery, JWKS and one client_credentials token: an RFC 9068 JWT signed by a published key."""
    discovery = fetch(f"{base}/o/.well-known/openid-configuration")
    rfc8414 = fetch(f"{base}/.well-known/oauth-authorization-server/o")  # RFC 8414 §3.1, site root
    kids = {key["kid"] for key in fetch(f"{base}/o/.well-known/jwks.json")["keys"]}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    answer = fetch(
        f"{base}/o/token/",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    header, claims, _ = (b64json(p) if i < 2 else p for i, p in enumerate(answer["access_token"].split(".")))
    problems = [
        f"{name}: {got!r} != {want!r}"
        for name, got, want in [
            ("RFC 8414 issuer", rfc8414.get("issuer"), discovery["issuer"]),
            ("token_type", answer.get("token_type"), "Bearer"),
            ("typ", header.get("typ"), "at+jwt"),
            ("kid published", header.get("kid") in kids, True),
            ("iss", claims.get("iss"), discovery["issuer"]),
            ("client_id", claims.get("client_id"), CLIENT_ID),
        ]
        if got != want
    ]
    if problems:
        sys.exit("!! token request: " + "; ".join(problems))
    print(f"ok: {discovery['issuer']} issued a {header['alg']} JWT access token signed by {header['kid']}")


def serve_and_request(site: Path, env: dict[str, str], python: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        start = time.monotonic()
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() - start > DEADLINE:
                    server.kill()
                    sys.exit(f"!! runserver did not start:\n{server.communicate()[1]}")
                time.sleep(0.2)
        token_request(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="interpreter of the pair")
    parser.add_argument("--constraints", required=True, help="the pair's pinned set, as constraints")
    parser.add_argument("wheel", type=Path)
    args = parser.parse_args()
    blocks = readme_blocks()
    with tempfile.TemporaryDirectory(prefix="try_install-") as tmp:
        work = Path(tmp)
        venv, site = work / "venv", work / "site"
        run(f"{shlex.quote(args.python)} -m venv {venv}", work, dict(os.environ))
        env = {
            **os.environ,
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(venv),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("PYTHONPATH", None)
        constraints = shlex.quote(str(ROOT / args.constraints))
        for line in commands(blocks["pip"]):
            line = re.sub(r"(?<![\w/-])dot-oidc-jwt(?![\w-])", shlex.quote(str(args.wheel.resolve())), line)
            run(f"{line} -q -c {constraints}", work, env)
        site.mkdir()
        run("django-admin startproject mysite .", site, env)
        for name in ("settings.py", "urls.py"):
            with open(site / "mysite" / name, "a") as f:
                f.write(f"\n# --- README.md, `try_install: {name}` block ---\n{blocks[name]}")
        key_command = commands(blocks["key"])
        env["OIDC_ENCRYPTION_KEY"] = run(key_command[0], site, env, capture=True).strip()
        for line in commands(blocks["shell"]):
            run(line, site, env)
        run(f"python manage.py shell -c {shlex.quote(CREATE_CLIENT)}", site, env)
        serve_and_request(site, env, venv / "bin" / "python")


if __name__ == "__main__":
    main()
