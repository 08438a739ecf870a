"""Benchmarks: every figure is measured in the same run as its baseline and printed as a ratio.

    .venv/bin/python bench/run.py [--rounds 7] [--n 300] [--only drf,token,jwks,scale,rows,server]

Scenarios 1-5 call Django in this process: medians over rounds, microseconds and DB queries per
request. Scenario 6 (server) runs gunicorn with 2 workers and wrk (or a Python client) on loopback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
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

ARGS = argparse.Namespace(rounds=7, n=300, only="", seconds=3, server_rounds=3)


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


def measure_all(cases: dict, n: int | None = None, contexts: dict | None = None) -> dict:
    """``measure`` for several cases, interleaved round by round so that drift in the machine's
    speed (other processes, CPU frequency) hits every case alike. ``contexts`` maps a case to a
    context-manager factory entered around its calls (settings that differ between cases)."""
    n = n or ARGS.n
    contexts = contexts or {}
    queries = {}
    samples: dict = {name: [] for name in cases}
    for name, fn in cases.items():
        with contexts.get(name, contextlib.nullcontext)():
            fn()
            with CaptureQueriesContext(connection) as ctx:
                fn()
        queries[name] = len(ctx.captured_queries)
    for _ in range(ARGS.rounds):
        for name, fn in cases.items():
            with contexts.get(name, contextlib.nullcontext)():
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: (statistics.median(samples[name]), queries[name]) for name in cases}


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}"


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
    # Created now, not on the first request: a profile created mid-run would show as a query.
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
    from bench.views import DOTOpaqueView, JWTView, NoAuthenticationView
    from oidc_provider import jose, keys
    from oidc_provider.models import ClientProfile

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
        "(a) no authentication": call(NoAuthenticationView.as_view()),
        "(b) DOT OAuth2Authentication, opaque": call(DOTOpaqueView.as_view(), opaque),
    }
    ours = JWTView.as_view()
    cases["(c1) ours, local RS256 JWT, first use"] = first_use(ours, rs)
    cases["(d1) ours, local ES256 JWT, first use"] = first_use(ours, es)
    cases["(c) ours, local RS256 JWT, repeat use"] = call(ours, rs)
    cases["(d) ours, local ES256 JWT, repeat use"] = call(ours, es)
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
        remote = measure_all(
            {"(a) no authentication": call(NoAuthenticationView.as_view()), "(e)": call(ours, rs)}
        )
    base = results["(a) no authentication"][0]
    label_e = "(e) ours, remote mode, warm JWKS cache, RS256, repeat use"
    results[label_e] = (remote["(e)"][0] - remote["(a) no authentication"][0] + base, remote["(e)"][1])

    rows = [
        (label, us, "-" if label.startswith("floor") else us - base, q) for label, (us, q) in results.items()
    ]
    table(
        "1. DRF request authentication (per request)", rows, ("case", "µs/request", "overhead µs", "queries")
    )
    print(
        "\nfirst use: the token's signature is checked (every new token, once per process); "
        "repeat use: it was checked on an earlier request, everything else is checked again.\n"
    )
    dot_overhead = results["(b) DOT OAuth2Authentication, opaque"][0] - base
    for label, alg in (
        ("(c1) ours, local RS256 JWT, first use", "RS256"),
        ("(d1) ours, local ES256 JWT, first use", "ES256"),
        ("(c) ours, local RS256 JWT, repeat use", "RS256"),
        ("(d) ours, local ES256 JWT, repeat use", "ES256"),
        (label_e, "RS256"),
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


def _forget_oauthlib_servers() -> None:
    """DOT keeps one oauthlib server per view class: built under other settings, it must go."""
    from oauth2_provider.views.mixins import OAuthLibMixin

    classes = [OAuthLibMixin]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        if "_oauthlib_core" in cls.__dict__:
            del cls._oauthlib_core


@contextlib.contextmanager
def provider_settings(oauth2_provider: dict | None = None, **oidc_provider):
    """The token endpoint's settings for one case: DOT's and ours, with DOT's servers rebuilt."""
    from django.conf import settings
    from django.test import override_settings

    overrides = {"OIDC_PROVIDER": {**settings.OIDC_PROVIDER, **oidc_provider}}
    if oauth2_provider is not None:
        overrides["OAUTH2_PROVIDER"] = oauth2_provider
    with override_settings(**overrides):
        _forget_oauthlib_servers()
        try:
            yield
        finally:
            _forget_oauthlib_servers()


@functools.cache
def _stock_rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


def stock_dot():
    """django-oauth-toolkit as it ships: its validator, generator, server class and views (/dot/),
    opaque access tokens and its own RS256 ID tokens (OIDC_RSA_PRIVATE_KEY)."""
    from django.conf import settings

    return provider_settings({**settings.STOCK_OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": _stock_rsa_pem()})


def _token_cases(prefix: str, cc_app, code_app, user) -> dict:
    """client_credentials, refresh_token and a full authorize + code exchange against ``prefix``."""
    from tests.oauth import authorize, basic, exchange_code

    client = Client()
    browser = Client()
    browser.force_login(user)
    token_url = f"{prefix}/token/"

    def code_round():
        code, verifier = authorize(browser, code_app, "openid read", prefix=prefix)
        response = exchange_code(client, code_app, code, verifier, prefix=prefix)
        assert response.status_code == 200, response.content
        return response.json()

    cc_headers, code_headers = basic(cc_app.client_id), basic(code_app.client_id)
    state = {"refresh_token": code_round()["refresh_token"]}

    def cc():
        data = {"grant_type": "client_credentials", "scope": "read"}
        assert client.post(token_url, data, **cc_headers).status_code == 200

    def refresh():
        data = {"grant_type": "refresh_token", "refresh_token": state["refresh_token"]}
        state["refresh_token"] = client.post(token_url, data, **code_headers).json()["refresh_token"]

    return {
        "client_credentials": cc,
        "refresh_token": refresh,
        "authorize + code exchange (PKCE), with ID token": code_round,
    }


def bench_token():
    from oidc_provider.models import ClientProfile
    from tests.factories import UserFactory

    user = UserFactory()
    opaque = {"access_token_format": ClientProfile.TokenFormat.OPAQUE}
    setups = {
        "DOT as shipped, opaque": ("/dot", {}),
        "ours, opaque format": ("/o", opaque),
        "ours, JWT": ("/o", {}),
    }
    apps = {
        name: (
            prefix,
            make_client("ClientCredentialsApplicationFactory", **profile),
            make_client("ApplicationFactory", **profile),
        )
        for name, (prefix, profile) in setups.items()
    }
    n = max(ARGS.n // 10, 15)
    rows = []
    for alg in ("ES256", "RS256"):
        # ACCESS_TOKEN_ALGORITHM is site-wide: one interleaved group (with its own baseline) per alg.
        ours = functools.partial(provider_settings, ACCESS_TOKEN_ALGORITHM=alg)
        cases, contexts = {}, {}
        for setup, (prefix, cc_app, code_app) in apps.items():
            context = stock_dot if prefix == "/dot" else ours
            with context():
                for grant, fn in _token_cases(prefix, cc_app, code_app, user).items():
                    cases[grant, setup] = fn
                    contexts[grant, setup] = context
        results = measure_all(cases, n=n, contexts=contexts)
        for grant in dict.fromkeys(grant for grant, _ in cases):
            base = results[grant, "DOT as shipped, opaque"][0]
            for setup in apps:
                us, queries = results[grant, setup]
                label = f"{grant}: {setup}" + (f" {alg}" if setup == "ours, JWT" else f" ({alg} group)")
                rows.append((label, us, ratio(us, base), queries))
    table(
        "2-3. Token endpoint and authorization code round (per request)",
        rows,
        ("case", "µs/request", "ratio vs DOT as shipped (same group)", "queries"),
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
        rows.append((f"{target:,} rows: opaque format", base, "1.00", results["opaque"][1]))
        rows.append(
            (
                f"{target:,} rows: JWT RS256",
                results["jwt"][0],
                ratio(results["jwt"][0], base),
                results["jwt"][1],
            )
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
        ("cold (key ring reloaded)", cold_us, "1.00", cold_q),
        ("warm", warm_us, ratio(warm_us, cold_us), warm_q),
        ("304 revalidation", revalidate_us, ratio(revalidate_us, cold_us), rq),
    ]
    table("4. JWKS endpoint", rows, ("case", "µs/request", "ratio vs cold", "queries"))


# -- 5. scale -------------------------------------------------------------------------------


def bench_scale():
    from oidc_provider import keys
    from oidc_provider.models import SigningKey
    from oidc_provider.validation import ACCESS_TOKEN, LocalKeys, decode

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
            decode(
                token,
                ACCESS_TOKEN,
                LocalKeys(),
                algorithms=["ES256"],
                issuer="https://testserver/o",
                audience="https://api.example.com",
            )

        us, q = measure(validate)
        base = base or us
        rows.append(
            (f"validate ES256 with {len(keys.keyring().keys)} published keys", us, ratio(us, base), q)
        )
    table("5a. Validation cost vs number of keys", rows, ("case", "µs/token", "ratio vs first", "queries"))


# -- 6. a real server -------------------------------------------------------------------------


def bench_server():
    """Two gunicorn servers (2 workers each, loaded one at a time): this site, and DOT as shipped
    for the token endpoint baseline; requests/second, median of interleaved rounds."""
    from bench import server
    from oidc_provider.models import ClientProfile
    from tests import oauth

    client = Client()
    opaque_app = make_client(
        "ClientCredentialsApplicationFactory", access_token_format=ClientProfile.TokenFormat.OPAQUE
    )
    jwt_app = make_client("ClientCredentialsApplicationFactory")
    dot_app = make_client("ClientCredentialsApplicationFactory")

    def bearer(app, alg=None):
        return {"Authorization": f"Bearer {token_for(app, client, alg)}"}

    def basic(app):
        return {"Authorization": oauth.basic(app.client_id)["HTTP_AUTHORIZATION"]}

    body = "grant_type=client_credentials&scope=read"
    # (server, path, headers, body); wrk repeats one request, so the JWT rows send one token
    # over and over: its signature is checked once per worker (see scenario 1, rows c and c1).
    cases = {
        "API, no authentication": ("ours", "/api/none", {}, None),
        "API, DOT OAuth2Authentication, opaque": ("ours", "/api/dot", bearer(opaque_app), None),
        "API, ours, JWT RS256 (one token repeated)": ("ours", "/api/jwt", bearer(jwt_app, "RS256"), None),
        "API, ours, JWT ES256 (one token repeated)": ("ours", "/api/jwt", bearer(jwt_app, "ES256"), None),
        "token endpoint, client_credentials: DOT as shipped, opaque": (
            "dot",
            "/dot/token/",
            basic(dot_app),
            body,
        ),
        "token endpoint, client_credentials: ours, opaque format": (
            "ours",
            "/o/token/",
            basic(opaque_app),
            body,
        ),
        "token endpoint, client_credentials: ours, JWT RS256": ("ours", "/o/token/", basic(jwt_app), body),
    }
    cache = "Redis" if server.redis_reachable() else "LocMemCache (Redis not reachable)"
    samples: dict[str, list[float]] = {name: [] for name in cases}
    errors = dict.fromkeys(cases, 0)
    db_name = connection.settings_dict["NAME"]
    with server.gunicorn(db_name) as ours, server.gunicorn(db_name, stock_dot=True) as dot:
        urls = {"ours": ours, "dot": dot}
        for where, path, headers, data in cases.values():
            server.load(urls[where] + path, 1, headers, data)  # warm the workers
        for _ in range(ARGS.server_rounds):
            for name, (where, path, headers, data) in cases.items():
                rps, failed = server.load(urls[where] + path, ARGS.seconds, headers, data)
                samples[name].append(rps)
                errors[name] += failed
    rps = {name: statistics.median(values) for name, values in samples.items()}
    api_base = rps["API, no authentication"]
    token_base = rps["token endpoint, client_credentials: DOT as shipped, opaque"]
    rows = [
        (name, value, ratio(value, token_base if name.startswith("token") else api_base), errors[name])
        for name, value in rps.items()
    ]
    table(
        f"6. gunicorn, 2 workers, {server.load_generator()} on loopback, 8 connections, cache {cache} "
        f"({ARGS.server_rounds} rounds x {ARGS.seconds} s per case)",
        rows,
        ("case", "requests/s", "ratio vs baseline (higher is better)", "non-2xx"),
    )


SCENARIOS = {
    "drf": bench_drf,
    "token": bench_token,
    "jwks": bench_jwks,
    "scale": bench_scale,
    "rows": bench_rows,
    "server": bench_server,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--only", default="")
    parser.add_argument("--seconds", type=int, default=3, help="load per case and round (scenario 6)")
    parser.add_argument("--server-rounds", type=int, default=3)
    parser.parse_args(namespace=ARGS)
    setup_test_environment()
    setup_data()
    print(f"# oidc_provider benchmarks ({connection.vendor}, Python {sys.version.split()[0]})")
    for name, fn in SCENARIOS.items():
        if not ARGS.only or name in ARGS.only.split(","):
            fn()


if __name__ == "__main__":
    main()
