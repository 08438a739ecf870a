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

# Every client's secret: generated strength, as the client-secret hasher expects.
SECRET = "bench0secret0Xq7vR2mK9pL4sT8wZ1bN6cH3jF5gD0aYeU"
PEER_VERSION = "9.13.3"  # bench/peer/package.json
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


def measure_all(
    cases: dict, n: int | None = None, contexts: dict | None = None, ns: dict | None = None
) -> dict:
    """``measure`` for several cases, interleaved round by round so that drift in the machine's
    speed (other processes, CPU frequency) hits every case alike. ``contexts`` maps a case to a
    context-manager factory entered around its calls (settings that differ between cases);
    ``ns`` gives slow cases fewer calls per round."""
    n = n or ARGS.n
    contexts, ns = contexts or {}, ns or {}
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
            calls = ns.get(name, n)
            with contexts.get(name, contextlib.nullcontext)():
                if name in contexts:
                    fn()  # settings changed: let DOT rebuild its server outside the timing
                start = time.perf_counter()
                for _ in range(calls):
                    fn()
                samples[name].append((time.perf_counter() - start) / calls * 1e6)
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
    """A client whose secret is ``SECRET``, stored with the client-secret hasher."""
    from tests import factories

    app = getattr(factories, factory_name)(client_secret=SECRET)
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
            "/o/token/", {"grant_type": "client_credentials", "scope": "read"}, **basic(app.client_id, SECRET)
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


HASHERS = {"pbkdf2": "PBKDF2PasswordHasher", "md5": "MD5PasswordHasher"}


def store_secret(app, hasher: str) -> None:
    """Keep ``app``'s secret hashed with ``hasher`` ("pbkdf2", "md5" or "ours"), as a site whose
    CLIENT_SECRET_HASHER is that hasher stores it (update(): pre_save would re-hash a hash)."""
    from django.contrib.auth import hashers

    from oidc_provider.client_secrets import ClientSecretHasher

    hasher_obj = ClientSecretHasher() if hasher == "ours" else getattr(hashers, HASHERS[hasher])()
    encoded = hashers.make_password(SECRET, hasher=hasher_obj)
    type(app).objects.filter(pk=app.pk).update(client_secret=encoded)
    app.client_secret = encoded


@contextlib.contextmanager
def hasher_config(name: str, setup):
    """PASSWORD_HASHERS of configuration ``name`` (bench/settings.py), then ``setup()``."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=settings.HASHER_CONFIGS[name]), setup():
        yield


def _token_cases(prefix: str, cc_app, code_app, user, grants: tuple[str, ...]) -> dict:
    """client_credentials (and its two client-authentication failures), refresh_token and a full
    authorize + code exchange against ``prefix``."""
    from tests.oauth import authorize, basic, exchange_code

    client = Client()
    browser = Client()
    browser.force_login(user)
    token_url = f"{prefix}/token/"
    cc_data = {"grant_type": "client_credentials", "scope": "read"}
    cc_headers, code_headers = basic(cc_app.client_id, SECRET), basic(code_app.client_id, SECRET)
    wrong, unknown = basic(cc_app.client_id, SECRET[::-1]), basic("no-such-client", SECRET)

    def code_round():
        code, verifier = authorize(browser, code_app, "openid read", prefix=prefix)
        response = exchange_code(client, code_app, code, verifier, secret=SECRET, prefix=prefix)
        assert response.status_code == 200, response.content
        return response.json()

    def cc():
        assert client.post(token_url, cc_data, **cc_headers).status_code == 200

    def failing(headers):
        return lambda: client.post(token_url, cc_data, **headers).status_code == 401 or 1 / 0

    cases = {"client_credentials": cc}
    if "failures" in grants:
        cases["client_credentials, known client_id, wrong secret (401)"] = failing(wrong)
        cases["client_credentials, unknown client_id (401)"] = failing(unknown)
    if "refresh_token" in grants:
        state = {"refresh_token": code_round()["refresh_token"]}

        def refresh():
            data = {"grant_type": "refresh_token", "refresh_token": state["refresh_token"]}
            state["refresh_token"] = client.post(token_url, data, **code_headers).json()["refresh_token"]

        cases["refresh_token"] = refresh
        cases["authorize + code exchange (PKCE), with ID token"] = code_round
    return cases


def _raw_sign(alg: str):
    from oidc_provider import jose, keys

    key = keys.keyring().signing_key(alg)
    data = b"e" * 300  # about the signing input of an access token
    return lambda: jose.ALGORITHMS[alg].sign(key.private_key, data)


def token_setups(config: str) -> dict:
    """(prefix, profile, secret hasher, settings context, grants) of each setup in a configuration."""
    from django.conf import settings

    from oidc_provider.models import ClientProfile

    dot_hasher = "pbkdf2" if config == "default" else "md5"
    ours = functools.partial(provider_settings, ACCESS_TOKEN_ALGORITHM="RS256")
    all_grants = ("failures", "refresh_token")
    setups = {
        "DOT as shipped, opaque": ("/dot", {}, dot_hasher, stock_dot, all_grants),
        "ours, opaque format": (
            "/o",
            {"access_token_format": ClientProfile.TokenFormat.OPAQUE},
            "ours",
            ours,
            ("refresh_token",),
        ),
        "ours, JWT RS256": ("/o", {}, "ours", ours, all_grants),
        "ours, JWT ES256": (
            "/o",
            {},
            "ours",
            functools.partial(provider_settings, ACCESS_TOKEN_ALGORITHM="ES256"),
            (),
        ),
    }
    setups["ours, JWT RS256, stateless"] = ("/o", {"store_access_tokens": False}, "ours", ours, ())
    if config == "default":
        keep = functools.partial(
            provider_settings,
            {**settings.OAUTH2_PROVIDER, "CLIENT_SECRET_HASHER": "default"},
            KEEP_PASSWORD_HASHER_FOR_CLIENT_SECRETS=True,
        )
        setups["ours, JWT RS256, PBKDF2 kept"] = ("/o", {}, "pbkdf2", keep, ("failures",))
    return setups


def bench_token():
    from tests.factories import UserFactory

    user = UserFactory()
    slow_n = 2  # PBKDF2 cases: ~0.5 s each
    for config in ("default", "test"):
        cases, contexts, ns = {}, {}, {}
        for alg in ("RS256", "ES256"):
            cases[f"floor: raw {alg} sign"] = _raw_sign(alg)
        for setup, (prefix, profile, hasher, context, grants) in token_setups(config).items():
            cc_app = make_client("ClientCredentialsApplicationFactory", **profile)
            code_app = make_client("ApplicationFactory", **profile)
            store_secret(cc_app, hasher)
            store_secret(code_app, hasher)
            factory = functools.partial(hasher_config, config, context)
            with factory():
                for grant, fn in _token_cases(prefix, cc_app, code_app, user, grants).items():
                    cases[grant, setup] = fn
                    contexts[grant, setup] = factory
                    if hasher == "pbkdf2":
                        ns[grant, setup] = slow_n
        results = measure_all(cases, n=max(ARGS.n // 10, 15), contexts=contexts, ns=ns)
        print_token_results(config, results)


def print_token_results(config: str, results: dict) -> None:
    title = {
        "default": "Django's default PASSWORD_HASHERS (PBKDF2 first): what a default install gets",
        "test": "the tests' MD5 password hasher (DOT's best case)",
    }[config]
    sign = {alg: results[f"floor: raw {alg} sign"][0] for alg in ("RS256", "ES256")}
    rows = [(f"floor: raw {alg} sign", us, "-", "1.0", 0) for alg, us in sign.items()]
    for key, (us, queries) in results.items():
        if isinstance(key, str):
            continue
        grant, setup = key
        base = results.get((grant, "DOT as shipped, opaque"), (us,))[0]
        alg = "ES256" if "ES256" in setup else "RS256"
        rows.append((f"{grant}: {setup}", us, ratio(us, base), f"{us / sign[alg]:.1f}", queries))
    table(
        f"2-3. Token endpoint, {title}",
        rows,
        ("case", "µs/request", "ratio vs DOT as shipped", "ratio vs raw sign", "queries"),
    )
    cc = {key[1]: us for key, (us, _) in results.items() if key[0] == "client_credentials"}
    rs256 = cc["ours, JWT RS256"] / sign["RS256"]
    print(f"\n- client_credentials, ours JWT RS256 / raw RS256 sign: {rs256:.1f}x (target <= 20x)")
    es256 = cc["ours, JWT ES256"] / cc["ours, opaque format"]
    print(f"- client_credentials, ours JWT ES256 / ours opaque: {es256:.2f}x (target <= 1.1x)")
    for setup in ("ours, JWT RS256", "ours, JWT RS256, PBKDF2 kept", "DOT as shipped, opaque"):
        known = results.get(("client_credentials, known client_id, wrong secret (401)", setup))
        unknown = results.get(("client_credentials, unknown client_id (401)", setup))
        if known and unknown:
            print(
                f"- {setup}: known client_id + wrong secret {known[0]:.0f} µs, unknown client_id "
                f"{unknown[0]:.0f} µs: unknown / known = {unknown[0] / known[0]:.2f} (target 0.90-1.10)"
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
            headers = basic(app.client_id, SECRET)
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
    """gunicorn servers (2 workers each, loaded one at a time): this site and DOT as shipped, each
    under Django's default PASSWORD_HASHERS and the test hasher, and node-oidc-provider (2
    processes); requests/second and p99 latency, medians of interleaved rounds."""
    from bench import server
    from oidc_provider.models import ClientProfile
    from tests import oauth

    client = Client()
    opaque_app = make_client(
        "ClientCredentialsApplicationFactory", access_token_format=ClientProfile.TokenFormat.OPAQUE
    )
    jwt_app = make_client("ClientCredentialsApplicationFactory")
    stateless_app = make_client("ClientCredentialsApplicationFactory", store_access_tokens=False)
    dot_apps = {
        hashers: make_client("ClientCredentialsApplicationFactory") for hashers in ("default", "test")
    }
    store_secret(dot_apps["default"], "pbkdf2")
    store_secret(dot_apps["test"], "md5")

    def bearer(app, alg=None):
        return {"Authorization": f"Bearer {token_for(app, client, alg)}"}

    def basic(app_or_id):
        client_id = getattr(app_or_id, "client_id", app_or_id)
        return {"Authorization": oauth.basic(client_id, SECRET)["HTTP_AUTHORIZATION"]}

    body = "grant_type=client_credentials&scope=read"
    token = "token endpoint, client_credentials"
    # (server, path, headers, body); wrk repeats one request, so the JWT rows send one token
    # over and over: its signature is checked once per worker (see scenario 1, rows c and c1).
    cases = {
        "API, no authentication": ("ours", "/api/none", {}, None),
        "API, DOT OAuth2Authentication, opaque": ("ours", "/api/dot", bearer(opaque_app), None),
        "API, ours, JWT RS256 (one token repeated)": ("ours", "/api/jwt", bearer(jwt_app, "RS256"), None),
        "API, ours, JWT ES256 (one token repeated)": ("ours", "/api/jwt", bearer(jwt_app, "ES256"), None),
        f"{token}: DOT as shipped, opaque, test hasher (its best case)": (
            "dot-test",
            "/dot/token/",
            basic(dot_apps["test"]),
            body,
        ),
        f"{token}: DOT as shipped, opaque, default hashers": (
            "dot",
            "/dot/token/",
            basic(dot_apps["default"]),
            body,
        ),
        f"{token}: ours, opaque format": ("ours", "/o/token/", basic(opaque_app), body),
        f"{token}: ours, JWT RS256, stored": ("ours", "/o/token/", basic(jwt_app), body),
        f"{token}: ours, JWT RS256, stateless": ("ours", "/o/token/", basic(stateless_app), body),
        f"{token}: ours, JWT RS256, stateless, test hasher": (
            "ours-test",
            "/o/token/",
            basic(stateless_app),
            body,
        ),
    }
    peer_label = f"{token}: node-oidc-provider {PEER_VERSION}, JWT RS256 (2 processes)"
    if server.peer_available():
        cases[peer_label] = ("peer", "/token", basic("peer-client"), body)
    cache = "Redis" if server.redis_reachable() else "LocMemCache (Redis not reachable)"
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    errors = dict.fromkeys(cases, 0)
    db_name = connection.settings_dict["NAME"]
    with contextlib.ExitStack() as stack:
        urls = {
            "ours": stack.enter_context(server.gunicorn(db_name)),
            "ours-test": stack.enter_context(server.gunicorn(db_name, hashers="test")),
            "dot": stack.enter_context(server.gunicorn(db_name, stock_dot=True)),
            "dot-test": stack.enter_context(server.gunicorn(db_name, stock_dot=True, hashers="test")),
        }
        if peer_label in cases:
            urls["peer"] = stack.enter_context(server.peer("peer-client", SECRET))
        for where, path, headers, data in cases.values():
            server.load(urls[where] + path, 1, headers, data)  # warm the workers
        for _ in range(ARGS.server_rounds):
            for name, (where, path, headers, data) in cases.items():
                rps, failed, p99 = server.load(urls[where] + path, ARGS.seconds, headers, data)
                samples[name].append((rps, p99))
                errors[name] += failed
    rps = {name: statistics.median(r for r, _ in values) for name, values in samples.items()}
    p99 = {name: statistics.median(p for _, p in values) for name, values in samples.items()}
    api_base = rps["API, no authentication"]
    token_base = rps[f"{token}: DOT as shipped, opaque, test hasher (its best case)"]
    peer_rps = rps.get(peer_label)
    rows = [
        (
            name,
            value,
            f"{p99[name]:.1f}",
            ratio(value, token_base if name.startswith("token") else api_base),
            ratio(value, peer_rps) if peer_rps and name.startswith("token") else "-",
            errors[name],
        )
        for name, value in rps.items()
    ]
    if peer_label not in cases:
        rows.append((peer_label, "not run: `npm install` in bench/peer", "-", "-", "-", "-"))
    table(
        f"6. gunicorn, 2 workers, {server.load_generator()} on loopback, 8 connections, cache {cache} "
        f"({ARGS.server_rounds} rounds x {ARGS.seconds} s per case; 2 shared cores: noisy)",
        rows,
        (
            "case",
            "requests/s",
            "p99 ms",
            "ratio vs baseline (DOT best case / no authentication)",
            "ratio vs peer",
            "non-2xx",
        ),
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
