"""What the provider refuses: fuzzed tokens and named attacks (RFC 8725, RFC 9700)."""

import base64
import json
import os
import time

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oidc_provider import jose, keys
from oidc_provider.validation import ACCESS_TOKEN, LocalKeys, decode

from .factories import ClientCredentialsApplicationFactory, IntrospectorFactory, SigningKeyFactory
from .oauth import basic, client_credentials

pytestmark = pytest.mark.django_db
# CI runs a few hundred cases; a long campaign: OIDC_FUZZ_EXAMPLES=100000 (see SECURITY.md).
FUZZ_EXAMPLES = int(os.environ.get("OIDC_FUZZ_EXAMPLES", "300"))
ISSUER = "https://testserver/o"
API = "https://api.example.com"


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**over):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": API, "sub": "1", "client_id": "c", "iat": now, "exp": now + 300, "jti": "j"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def validate(token):
    return decode(
        token,
        ACCESS_TOKEN,
        LocalKeys(),
        algorithms=["RS256", "PS256", "ES256", "EdDSA"],
        issuer=ISSUER,
        audience=API,
    )


def mint(key, alg=None, typ="at+jwt", header_extra=None, **claim_over):
    loaded = keys.keyring().keys[key.kid]
    alg = alg or loaded.alg
    header = {"alg": alg, "typ": typ, "kid": key.kid, **(header_extra or {})}
    signing_input = f"{b64(header)}.{b64(claims(**claim_over))}"
    signature = jose.ALGORITHMS[alg].sign(loaded.private_key, signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def rs(db):
    return SigningKeyFactory(algorithm="RS256")


@pytest.fixture
def es(db):
    return SigningKeyFactory(algorithm="ES256")


def test_a_well_formed_token_passes(rs):
    assert validate(mint(rs))[1]["sub"] == "1"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_every_spelling(rs, alg):
    token = f"{b64({'alg': alg, 'typ': 'at+jwt', 'kid': rs.kid})}.{b64(claims())}."
    with pytest.raises(jose.InvalidToken):
        validate(token)
    with pytest.raises(jose.InvalidToken):
        validate(token + "AAAA")


@pytest.mark.parametrize("fmt", ["pem", "der", "jwk"])
def test_hs256_signed_with_the_public_key_is_refused(rs, fmt):
    public = keys.keyring().keys[rs.kid].public_key
    secret = {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk": json.dumps(rs.public_jwk).encode(),
    }[fmt]
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': rs.kid})}.{b64(claims())}"
    token = f"{signing_input}.{b64(jose.ALGORITHMS['HS256'].sign(secret, signing_input.encode()))}"
    with pytest.raises(jose.InvalidToken, match="not accepted for this key"):
        validate(token)


def test_alg_that_differs_from_the_keys_alg(rs, es):
    # PS256 is allowed and the key is RSA, but this key was made for RS256.
    with pytest.raises(jose.InvalidToken, match="not accepted for this key"):
        validate(mint(rs, alg="PS256"))
    # An RS256 header pointing at the EC key.
    forged = mint(rs).split(".")
    header = {"alg": "RS256", "typ": "at+jwt", "kid": es.kid}
    with pytest.raises(jose.InvalidToken):
        validate(".".join([b64(header), *forged[1:]]))


def test_revoked_and_purged_keys_stop_validating_at_once(rs, django_capture_on_commit_callbacks):
    token = mint(rs)
    validate(token)
    with django_capture_on_commit_callbacks(execute=True):
        keys.revoke(rs)
    with pytest.raises(jose.InvalidToken, match="unknown key"):
        validate(token)
    keys.prune()
    with pytest.raises(jose.InvalidToken, match="unknown key"):
        validate(token)


def test_a_token_seen_before_is_checked_again_in_full(rs, monkeypatch):
    """With remember=True the signature is checked once per token and key object; everything
    else on every use. Without it (the default), every time."""
    checked = []
    verify = jose.Algorithm.verify
    monkeypatch.setattr(jose.Algorithm, "verify", lambda *a: checked.append(1) or verify(*a))

    def check(token, **options):
        options = {"algorithms": ["RS256"], "issuer": ISSUER, "audience": API, **options}
        return decode(token, ACCESS_TOKEN, LocalKeys(), remember=True, **options)

    token = mint(rs, exp=int(time.time()) + 60)
    check(token)
    check(token)
    assert len(checked) == 1
    validate(token)
    assert len(checked) == 2
    head, payload, signature = token.split(".")
    with pytest.raises(jose.InvalidToken, match="signature is invalid"):
        check(f"{head}.{payload}.{signature[:-4]}AAAA")
    with pytest.raises(jose.InvalidToken, match="expired"):
        check(token, now=lambda: 2e10)
    with pytest.raises(jose.InvalidToken, match="audience"):
        check(token, audience="https://other.example")
    with pytest.raises(jose.InvalidToken, match="not accepted for this key"):
        check(token, algorithms=["ES256"])
    keys.clear_local_cache()  # a reloaded key ring has new key objects: checked again
    check(token)
    assert len(checked) == 4


@pytest.mark.parametrize("kid", ["../../etc/passwd", "' OR 1=1 --", "x" * 5000, "", None, 7, ["a"]])
def test_hostile_kid_values(rs, kid, django_assert_num_queries):
    keys.keyring()
    token = mint(rs, header_extra={"kid": kid})
    with django_assert_num_queries(0), pytest.raises(jose.InvalidToken):
        validate(token)


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
def test_key_location_headers_are_never_followed(rs, name, monkeypatch):
    import requests

    def boom(*args, **kwargs):
        raise AssertionError("fetched a URL from a token header")

    monkeypatch.setattr(requests.Session, "request", boom)
    value = "https://evil.example/jwks.json" if name in ("jku", "x5u") else {"kty": "oct", "k": "AAAA"}
    token = mint(rs, header_extra={name: value})
    assert validate(token)[1]["sub"] == "1"  # ignored: the kid and our key decide


def test_crit_header_is_rejected(rs):
    with pytest.raises(jose.InvalidToken, match="critical"):
        validate(mint(rs, header_extra={"crit": ["exp"], "exp": 1}))


def test_encrypted_and_nested_tokens_are_rejected(rs):
    jwe = ".".join(b64(p) for p in [{"alg": "RSA-OAEP", "enc": "A256GCM"}, b"k", b"iv", b"ct", b"tag"])
    with pytest.raises(jose.InvalidToken, match="expected a signed JWT"):
        validate(jwe)
    with pytest.raises(jose.InvalidToken, match="Encrypted"):
        validate(mint(rs, header_extra={"enc": "A256GCM"}))


def test_id_token_is_not_an_access_token(rs):
    with pytest.raises(jose.InvalidToken, match="type"):
        validate(mint(rs, typ="JWT"))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"iss": "https://other.example"}, "issuer"),
        ({"aud": "https://other-api.example"}, "audience"),
        ({"aud": ["https://x.example", "https://y.example"]}, "audience"),
        ({"exp": int(time.time()) - 31}, "expired"),  # one second beyond the 30 s leeway
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),  # far ahead: values are fixed at collection
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"exp": "tomorrow"}, "not a number"),
        ({"exp": True}, "not a number"),
        ({"exp": None}, "no exp"),
        ({"sub": 5}, "not a string"),
    ],
)
def test_claim_checks(rs, over, message):
    with pytest.raises(jose.InvalidToken, match=message):
        validate(mint(rs, **over))


@pytest.mark.parametrize("name", ["iss", "sub", "jti", "client_id", "scope"])
def test_null_string_claims_are_refused(rs, name, monkeypatch):
    monkeypatch.setattr(jose.Unverified, "claims", lambda self: {**claims(), name: None})
    with pytest.raises(jose.InvalidToken, match=r"not a string|issuer"):
        validate(mint(rs))


def test_expiry_inside_the_leeway_is_accepted(rs):
    assert validate(mint(rs, exp=int(time.time()) - 5))


def test_duplicate_json_members_are_rejected(rs):
    token = mint(rs).split(".")
    payload = b'{"sub":"1","sub":"2"}'
    with pytest.raises(jose.InvalidToken, match="Duplicate"):
        jose.parse(f"{token[0]}.{b64(payload)}.{token[2]}").claims()


def test_oversized_token_is_refused_before_parsing(rs):
    with pytest.raises(jose.InvalidToken, match="too large"):
        validate(mint(rs, padding="x" * 9000))


# -- fuzzing: never accepted unless valid, never an unexpected exception --------------------

segments = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.", max_size=60),
    st.binary(max_size=40).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    ).map(b64),
)


@settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(segments, min_size=1, max_size=6), text=st.text(max_size=80))
def test_fuzzed_tokens_never_pass_and_never_crash(rs, parts, text):
    for token in (".".join(parts), text, text.encode("utf-8", "surrogatepass")):
        try:
            validate(token)
        except jose.InvalidToken:
            continue
        pytest.fail(f"accepted {token!r}")


@settings(
    max_examples=max(FUZZ_EXAMPLES // 2, 1),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "typ", "kid", "crit", "enc", "b64", "x"]), st.text(max_size=8)
    ),
    exp=st.one_of(
        st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.none()
    ),
)
def test_fuzzed_headers_and_numeric_edges_with_a_real_signature(rs, header, exp):
    loaded = keys.keyring().keys[rs.kid]
    signing_input = f"{b64(header)}.{b64(claims(exp=exp))}"
    token = (
        f"{signing_input}.{b64(jose.ALGORITHMS['RS256'].sign(loaded.private_key, signing_input.encode()))}"
    )
    try:
        validate(token)
    except jose.InvalidToken:
        return
    assert header.get("alg") == "RS256" and header.get("kid") == rs.kid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=200))
def test_introspection_never_500s_on_junk(client, rs, token):
    app = IntrospectorFactory()
    response = client.post("/o/introspect/", {"token": token}, **basic(app.client_id))
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == {"active": False}


def test_introspection_of_our_jwt_signed_by_a_revoked_key_is_inactive(
    client, rs, django_capture_on_commit_callbacks
):
    app = IntrospectorFactory()
    token = client_credentials(client, app)["access_token"]
    with django_capture_on_commit_callbacks(execute=True):
        keys.revoke(rs)
    response = client.post("/o/introspect/", {"token": token}, **basic(app.client_id))
    assert response.status_code == 200
    assert response.json()["active"] is False


def test_dot_authentication_refuses_a_jwt_of_a_revoked_key(client, rs, django_capture_on_commit_callbacks):
    from oauth2_provider.contrib.rest_framework import OAuth2Authentication
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    class DOTView(APIView):
        authentication_classes = [OAuth2Authentication]
        permission_classes = []

        def get(self, request):
            return Response(status=200 if request.auth is not None else 401)

    token = client_credentials(client, ClientCredentialsApplicationFactory())["access_token"]
    request = lambda: APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")  # noqa: E731
    assert DOTView.as_view()(request()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        keys.revoke(rs)
    assert DOTView.as_view()(request()).status_code == 401
