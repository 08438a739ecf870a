"""Benchmarks: every figure is measured in the same run as its baseline and printed as a ratio.

    .venv/bin/python bench/run.py [--rounds 7] [--n 300] [--only drf,token,code,jwks,scale]

Medians over rounds; per-request microseconds; DB queries per request. Plain Python, no server.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

ARGS = argparse.Namespace(rounds=7, n=300, only="")


def measure(fn, n: int | None = None, rounds: int | None = None) -> tuple[float, float]:
    """(median microseconds per call, queries per call) for ``fn``."""
    n, rounds = n or ARGS.n, rounds or ARGS.rounds
    fn()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = len(ctx.captured_queries)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples), queries


def measure_all(cases: dict, n: int | None = None) -> dict[str, tuple[float, float]]:
    """``measure`` for several cases, interleaved round by round so that drift in the machine's
    speed (other processes, CPU frequency) hits every case alike."""
    n = n or ARGS.n
    queries = {}
    for name, fn in cases.items():
        fn()
        with CaptureQueriesContext(connection) as ctx:
            fn()
        queries[name] = len(ctx.captured_queries)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ARGS.rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: (statistics.median(samples[name]), queries[name]) for name in cases}


def table(title: str, rows: list[tuple], headers: tuple) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(f"{c:.1f}" if isinstance(c, float) else str(c) for c in row) + " |")


def setup_data():
    """A throwaway test database (SQLite in memory, or on DATABASE_URL's server), then keys."""
    old_name = connection.creation.create_test_db(verbosity=0)
    atexit.register(connection.creation.destroy_test_db, old_name, verbosity=0)
    from oidc_provider import keys

    for alg in ("RS256", "ES256"):
        keys.ensure_active_key(alg)


def make_client(factory_name: str, **profile):
    from tests import factories

    app = getattr(factories, factory_name)()
    if profile:
        factories.ClientProfileFactory(application=app, **profile)
    return app


def token_for(app, client: Client, alg: str | None = None) -> str:
    from django.test import override_settings

    from tests.oauth import basic

    settings_override = {}
    if alg:
        from django.conf import settings

        settings_override = {"OIDC_PROVIDER": {**settings.OIDC_PROVIDER, "ACCESS_TOKEN_ALGORITHM": alg}}
    with override_settings(**settings_override):
        response = client.post(
            "/o/token/", {"grant_type": "client_credentials", "scope": "read"}, **basic(app.client_id)
        )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


# -- 1. DRF request authentication ---------------------------------------------------------


def bench_drf():
    from oauth2_provider.contrib.rest_framework import OAuth2Authentication
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from oidc_provider import jose, keys
    from oidc_provider.contrib.rest_framework.authentication import JWTAccessTokenAuthentication
    from oidc_provider.models import ClientProfile

    def view_with(auth_classes):
        class View(APIView):
            authentication_classes = auth_classes
            permission_classes = [AllowAny]

            def get(self, request):
                request.auth  # noqa: B018 - authenticate, do not touch the user row
                return Response({"ok": True})

        return View.as_view()

    client = Client()
    opaque = token_for(
        make_client(
            "ClientCredentialsApplicationFactory", access_token_format=ClientProfile.TokenFormat.OPAQUE
        ),
        client,
    )
    jwt_app = make_client("ClientCredentialsApplicationFactory")
    rs = token_for(jwt_app, client, "RS256")
    es = token_for(jwt_app, client, "ES256")
    rf = RequestFactory()

    def call(view, token=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        request = rf.get("/api/x", **headers)
        return lambda: view(request)

    def first_use(view, token):
        """A token this process has not verified yet: its signature is checked."""
        request = call(view, token)
        return lambda: (jose.clear_verified_cache(), request())

    cases = {
        "(a) no authentication": call(view_with([])),
        "(b) DOT OAuth2Authentication, opaque": call(view_with([OAuth2Authentication]), opaque),
    }
    ours = view_with([JWTAccessTokenAuthentication])
    cases["(c) ours, local RS256 JWT"] = call(ours, rs)
    cases["(d) ours, local ES256 JWT"] = call(ours, es)
    cases["(c1) ours, local RS256 JWT, first use"] = first_use(ours, rs)
    cases["(d1) ours, local ES256 JWT, first use"] = first_use(ours, es)
    ring = keys.keyring()
    floor = {}
    for alg, token in (("RS256", rs), ("ES256", es)):
        parsed = jose.parse(token)
        key = ring.keys[parsed.header["kid"]]

        def raw(algorithm=jose.ALGORITHMS[key.alg], key=key, parsed=parsed):
            return algorithm.verify(key.public_key, parsed.signature, parsed.signing_input)

        floor[alg] = f"floor: raw cryptography {alg} verify"
        cases[floor[alg]] = raw
    results = measure_all(cases)
    # Remote mode is a site-wide setting, so it gets its own interleaved group with its own baseline.
    with remote_mode():
        remote = measure_all({"(a) no authentication": call(view_with([])), "(e)": call(ours, rs)})
    base = results["(a) no authentication"][0]
    label_e = "(e) ours, remote mode, warm JWKS cache, RS256"
    results[label_e] = (remote["(e)"][0] - remote["(a) no authentication"][0] + base, remote["(e)"][1])

    rows = [
        (label, us, "-" if label.startswith("floor") else us - base, q) for label, (us, q) in results.items()
    ]
    table(
        "1. DRF request authentication (per request)", rows, ("case", "µs/request", "overhead µs", "queries")
    )
    dot_overhead = results["(b) DOT OAuth2Authentication, opaque"][0] - base
    for label, alg in (
        ("(c) ours, local RS256 JWT", "RS256"),
        ("(d) ours, local ES256 JWT", "ES256"),
        (label_e, "RS256"),
        ("(c1) ours, local RS256 JWT, first use", "RS256"),
        ("(d1) ours, local ES256 JWT, first use", "ES256"),
    ):
        overhead = results[label][0] - base
        print(
            f"- {label}: overhead / raw verify floor = "
            f"{overhead / results[floor[alg]][0]:.2f}x (target <= 1.5x); "
            f"DOT overhead / ours = {dot_overhead / overhead:.1f}x (target >= 20x)"
        )


@contextlib.contextmanager
def remote_mode():
    """RESOURCE_SERVER in remote mode against this site's JWKS, served without a network."""
    from unittest import mock

    import requests
    from django.conf import settings
    from django.test import override_settings

    from oidc_provider.contrib.rest_framework import jwks

    client = Client()

    class Response:
        def __init__(self, response):
            self.status_code, self.content = response.status_code, response.content

    def get(session, url, **kwargs):
        return Response(client.get(url.replace("https://testserver", "")))

    resource = {"MODE": "remote", "JWKS_URI": "https://testserver/o/.well-known/jwks.json"}
    with (
        mock.patch.object(requests.Session, "get", get),
        override_settings(OIDC_PROVIDER={**settings.OIDC_PROVIDER, "RESOURCE_SERVER": resource}),
    ):
        jwks.clear_local_cache()
        yield
    jwks.clear_local_cache()


# -- 2. token endpoint ------------------------------------------------------------------------


def _token_cases(client, opaque_app, jwt_app, code_opaque, code_jwt, user):
    from tests.oauth import REDIRECT_URI, basic, pkce

    def cc(app):
        headers = basic(app.client_id)
        return lambda: client.post(
            "/o/token/", {"grant_type": "client_credentials", "scope": "read"}, **headers
        )

    def refresh(app):
        first = code_round(app, "read")()
        state = {"token": first["refresh_token"]}
        headers = basic(app.client_id)

        def call():
            response = client.post(
                "/o/token/", {"grant_type": "refresh_token", "refresh_token": state["token"]}, **headers
            )
            state["token"] = response.json()["refresh_token"]

        return call

    def code_round(app, scope):
        browser = Client()
        browser.force_login(user)
        headers = basic(app.client_id)

        def call():
            verifier, challenge = pkce()
            params = {
                "response_type": "code",
                "client_id": app.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": scope,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            location = browser.get("/o/authorize/", params)["Location"]
            code = location.split("code=")[1].split("&")[0]
            data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
            return client.post("/o/token/", {**data, "code_verifier": verifier}, **headers).json()

        return call

    return {
        "client_credentials: DOT opaque": cc(opaque_app),
        "client_credentials: JWT": cc(jwt_app),
        "refresh_token: DOT opaque": refresh(code_opaque),
        "refresh_token: JWT": refresh(code_jwt),
        "authorize + code exchange (PKCE): DOT opaque, no ID token": code_round(code_opaque, "read"),
        "authorize + code exchange (PKCE): JWT + ID token": code_round(code_jwt, "openid read"),
    }


def bench_token():
    from django.conf import settings
    from django.test import override_settings

    from oidc_provider.models import ClientProfile

    opaque = {"access_token_format": ClientProfile.TokenFormat.OPAQUE}
    client = Client()
    apps = (
        make_client("ClientCredentialsApplicationFactory", **opaque),
        make_client("ClientCredentialsApplicationFactory"),
        make_client("ApplicationFactory", **opaque),
        make_client("ApplicationFactory"),
    )
    from tests.factories import UserFactory

    user = UserFactory()
    n = max(ARGS.n // 10, 15)
    rows = []
    for alg in ("ES256", "RS256"):
        # ACCESS_TOKEN_ALGORITHM is site-wide: one interleaved group (with its own baseline) per alg.
        with override_settings(OIDC_PROVIDER={**settings.OIDC_PROVIDER, "ACCESS_TOKEN_ALGORITHM": alg}):
            results = measure_all(_token_cases(client, *apps, user), n=n)
        labels = list(results)
        for base_label, label in zip(labels[::2], labels[1::2], strict=True):
            base = results[base_label][0]
            rows.append((f"{base_label} ({alg} group)", base, 1.0, results[base_label][1]))
            rows.append((f"{label} ({alg})", results[label][0], results[label][0] / base, results[label][1]))
    table(
        "2-3. Token endpoint and authorization code round (per request)",
        rows,
        ("case", "µs/request", "ratio vs DOT opaque (same group)", "queries"),
    )


def bench_rows():
    """Token endpoint with 10^4 and 10^5 stored AccessToken rows (the unique checksum index grows)."""
    import hashlib

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    from oidc_provider.models import ClientProfile
    from tests.oauth import basic

    AccessToken = get_access_token_model()
    client = Client()
    opaque_app = make_client(
        "ClientCredentialsApplicationFactory", access_token_format=ClientProfile.TokenFormat.OPAQUE
    )
    jwt_app = make_client("ClientCredentialsApplicationFactory")
    rows = []
    expires = timezone.now() + timezone.timedelta(hours=1)
    for target in (10_000, 100_000):
        existing = AccessToken.objects.count()
        batch = [
            AccessToken(
                token=f"filler-{i}",
                token_checksum=hashlib.sha256(f"filler-{i}".encode()).hexdigest(),
                application=opaque_app,
                expires=expires,
                scope="read",
            )
            for i in range(existing, target)
        ]
        AccessToken.objects.bulk_create(batch, batch_size=5000)

        def cc(app):
            headers = basic(app.client_id)
            return lambda: client.post("/o/token/", {"grant_type": "client_credentials"}, **headers)

        results = measure_all({"opaque": cc(opaque_app), "jwt": cc(jwt_app)}, n=max(ARGS.n // 10, 15))
        base = results["opaque"][0]
        rows.append((f"{target:,} rows: DOT opaque", base, 1.0, results["opaque"][1]))
        rows.append(
            (f"{target:,} rows: JWT RS256", results["jwt"][0], results["jwt"][0] / base, results["jwt"][1])
        )
    table("5b. Token endpoint vs stored tokens", rows, ("case", "µs/request", "ratio vs opaque", "queries"))


# -- 4. JWKS ------------------------------------------------------------------------------------


def bench_jwks():
    from oidc_provider import keys

    client = Client()
    rows = []

    def cold():
        keys.clear_local_cache()
        return client.get("/o/.well-known/jwks.json")

    etag = client.get("/o/.well-known/jwks.json")["ETag"]
    cold_us, cold_q = measure(cold)
    warm_us, warm_q = measure(lambda: client.get("/o/.well-known/jwks.json"))
    revalidate_us, rq = measure(lambda: client.get("/o/.well-known/jwks.json", HTTP_IF_NONE_MATCH=etag))
    rows += [
        ("cold (key ring reloaded)", cold_us, 1.0, cold_q),
        ("warm", warm_us, warm_us / cold_us, warm_q),
        ("304 revalidation", revalidate_us, revalidate_us / cold_us, rq),
    ]
    table("4. JWKS endpoint", rows, ("case", "µs/request", "ratio vs cold", "queries"))


# -- 5. scale -------------------------------------------------------------------------------


def bench_scale():
    from oidc_provider import keys
    from oidc_provider.jose import InvalidToken
    from oidc_provider.models import SigningKey
    from oidc_provider.validation import LocalKeys, decode

    client = Client()
    app = make_client("ClientCredentialsApplicationFactory")
    rows = []
    base = None
    for count in (1, 10, 100):
        existing = SigningKey.objects.filter(algorithm="ES256").count()
        for _ in range(max(0, count - existing)):
            keys.create_key("ES256", state=SigningKey.State.RETIRED)
        keys.invalidate()
        token = token_for(app, client, "ES256")

        def validate(token=token):
            try:
                decode(
                    token,
                    LocalKeys(),
                    allowed_algs=["ES256"],
                    issuer="https://testserver/o",
                    audience="https://api.example.com",
                )
            except InvalidToken:
                raise

        us, q = measure(validate)
        base = base or us
        rows.append((f"validate ES256 with {len(keys.keyring().keys)} published keys", us, us / base, q))
    table("5a. Validation cost vs number of keys", rows, ("case", "µs/token", "ratio vs first", "queries"))


SCENARIOS = {
    "drf": bench_drf,
    "token": bench_token,
    "jwks": bench_jwks,
    "scale": bench_scale,
    "rows": bench_rows,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--only", default="")
    parser.parse_args(namespace=ARGS)
    setup_test_environment()
    setup_data()
    print(f"# oidc_provider benchmarks ({connection.vendor}, Python {sys.version.split()[0]})")
    for name, fn in SCENARIOS.items():
        if not ARGS.only or name in ARGS.only.split(","):
            fn()


if __name__ == "__main__":
    main()
