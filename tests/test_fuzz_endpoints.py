"""Every endpoint, fuzzed: whatever arrives, the answer is never an HTTP 500.

Parameters are drawn from the names each endpoint reads plus junk; values mix junk text with
almost-valid tokens. The test client raises any exception a view lets through, so a 500 fails
the example. CI runs a few examples per endpoint; a longer campaign:
``OIDC_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz_endpoints.py`` (as for ``test_attacks.py``).
"""

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .factories import ApplicationFactory, IntrospectorFactory, SigningKeyFactory, UserFactory
from .oauth import basic

pytestmark = pytest.mark.django_db
EXAMPLES = max(5, int(os.environ.get("OIDC_FUZZ_EXAMPLES", "300")) // 15)
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


junk = st.text(max_size=80)
numbers = st.sampled_from(["0", "-1", "1e400", "NaN", "9" * 400, "", "00", " 1", "٣"])
jwt_like = st.builds(
    lambda header, claims, sig: f"{_b64(header)}.{_b64(claims)}.{sig}",
    st.fixed_dictionaries(
        {
            "alg": st.sampled_from(["RS256", "HS256", "none", "ES256", "EdDSA", 7]),
            "typ": st.sampled_from(["JWT", "at+jwt", 1]),
        },
        optional={"kid": junk, "crit": st.just(["x"]), "jku": st.just("http://127.0.0.1/")},
    ),
    st.dictionaries(
        st.sampled_from(
            ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "auth_time", "scope", "sid"]
        ),
        st.one_of(
            junk,
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.none(),
            st.lists(junk, max_size=3),
        ),
    ),
    st.sampled_from(["", "c2ln", "AA", "!!!", "c2ln="]),
)
values = st.one_of(junk, numbers, jwt_like)


def params(*names):
    """Some of the names the endpoint reads, plus the odd unknown one, with fuzzed values."""
    known = st.dictionaries(st.sampled_from(names), values, max_size=len(names))
    return st.tuples(known, st.dictionaries(junk, junk, max_size=2)).map(lambda p: {**p[1], **p[0]})


auth_headers = st.one_of(
    st.just({}),
    st.builds(lambda v: {"HTTP_AUTHORIZATION": f"Bearer {v}"}, values),
    st.builds(lambda v: {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(v.encode()).decode()}, junk),
    st.builds(lambda v: {"HTTP_AUTHORIZATION": v}, junk.filter(lambda v: "\n" not in v and "\r" not in v)),
)


def _ok(response):
    assert response.status_code < 500, (response.status_code, response.content[:300])


@pytest.fixture
def world(db, client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RP_INITIATED_LOGOUT_ENABLED": True}
    SigningKeyFactory(algorithm="RS256")
    app = ApplicationFactory(client_id="fuzz-client")
    IntrospectorFactory(client_id="fuzz-rs")
    user = UserFactory()
    return {"app": app, "user": user}


AUTHORIZE = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt", "max_age",
    "id_token_hint", "claims", "code_challenge", "code_challenge_method", "request", "request_uri",
    "login_hint", "response_mode", "approval_prompt",
)  # fmt: skip


@fuzz
@given(query=params(*AUTHORIZE), logged_in=st.booleans(), method=st.sampled_from(["get", "post"]))
def test_authorize(client, world, query, logged_in, method):
    query.setdefault("client_id", "fuzz-client")
    if logged_in:
        client.force_login(world["user"])
    else:
        client.logout()
    _ok(getattr(client, method)("/o/authorize/", query))


TOKEN = (
    "grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id",
    "client_secret", "client_assertion", "client_assertion_type", "resource", "device_code",
    "username", "password", "audience",
)  # fmt: skip


@fuzz
@given(
    body=params(*TOKEN),
    headers=auth_headers,
    grant=st.sampled_from(
        ["authorization_code", "refresh_token", "client_credentials", "password",
         "urn:ietf:params:oauth:grant-type:device_code", "implicit", None]
    ),
)  # fmt: skip
def test_token(client, world, body, headers, grant):
    if grant:
        body.setdefault("grant_type", grant)
    _ok(client.post("/o/token/", body, **(headers or basic("fuzz-client"))))


@fuzz
@given(headers=auth_headers, body=params("access_token", "scope"), method=st.sampled_from(["get", "post"]))
def test_userinfo(client, world, headers, body, method):
    _ok(getattr(client, method)("/o/userinfo/", body, **headers))


@fuzz
@given(body=params("token", "token_type_hint", "client_id", "client_secret", "client_assertion",
                   "client_assertion_type"), headers=auth_headers)  # fmt: skip
def test_introspect(client, world, body, headers):
    _ok(client.post("/o/introspect/", body, **(headers or basic("fuzz-rs"))))
    _ok(client.get("/o/introspect/", body, **headers))


@fuzz
@given(body=params("token", "token_type_hint", "client_id", "client_secret", "client_assertion",
                   "client_assertion_type"), headers=auth_headers)  # fmt: skip
def test_revoke(client, world, body, headers):
    _ok(client.post("/o/revoke_token/", body, **(headers or basic("fuzz-client"))))


@fuzz
@given(
    query=params(
        "id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint"
    ),
    logged_in=st.booleans(),
    method=st.sampled_from(["get", "post"]),
)
def test_logout(client, world, query, logged_in, method):
    if logged_in:
        client.force_login(world["user"])
    _ok(getattr(client, method)("/o/logout/", query))


@fuzz
@given(query=params("x"), etag=st.one_of(st.none(), junk.filter(lambda v: "\n" not in v and "\r" not in v)))
def test_jwks_and_discovery(client, world, query, etag):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag is not None else {}
    for path in (
        "/o/.well-known/jwks.json",
        "/o/.well-known/openid-configuration",
        "/o/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/o",
    ):
        _ok(client.get(path, query, **headers))


@pytest.fixture
def staff(client, world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@fuzz
@given(token=values)
def test_admin_inspector(staff, token):
    _ok(staff.post("/admin/oidc_provider/signingkey/inspect/", {"token": token}))


pem_like = st.one_of(
    junk,
    st.builds(
        lambda kind, body: f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n",
        st.sampled_from(["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "PUBLIC KEY", "X"]),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n", max_size=200),
    ),
)


@fuzz
@given(
    algorithm=st.sampled_from(["RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256", "none", ""]),
    state=st.sampled_from(["next", "active", "retired", "revoked", "x"]),
    pem=pem_like,
)
def test_admin_key_import(staff, algorithm, state, pem):
    _ok(
        staff.post(
            "/admin/oidc_provider/signingkey/add/",
            {"algorithm": algorithm, "state": state, "private_key_pem": pem},
        )
    )
