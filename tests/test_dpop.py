"""DPoP proofs (RFC 9449 §4.3) and server nonces (§8): ``oidc_provider.dpop``.

The client here is written from the RFC with PyJWT and cryptography, independent of our code.
"""

import base64
import hashlib
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core import checks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oidc_provider import dpop
from oidc_provider.dpop import INVALID_DPOP_PROOF, USE_DPOP_NONCE, DPoPError, verify_proof
from oidc_provider.jwk import thumbprint

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://server.example.com/token"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Client:
    """A DPoP client (RFC 9449 §4.2): a key pair and proofs signed by it."""

    JWK_CLASSES = {
        "ES256": jwt.algorithms.ECAlgorithm,
        "RS256": jwt.algorithms.RSAAlgorithm,
        "PS256": jwt.algorithms.RSAAlgorithm,
        "EdDSA": jwt.algorithms.OKPAlgorithm,
    }

    def __init__(self, alg="ES256"):
        self.alg = alg
        if alg == "ES256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        elif alg == "EdDSA":
            self.key = ed25519.Ed25519PrivateKey.generate()
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self, private=False):
        key = self.key if private else self.key.public_key()
        return self.JWK_CLASSES[self.alg].to_jwk(key, as_dict=True)

    def proof(
        self, htm="POST", htu=TOKEN_URL, *, access_token=None, nonce=None, iat=None, header=None, **claims
    ):
        payload = {
            "jti": str(uuid.uuid4()),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()) if iat is None else iat,
        }
        if access_token is not None:
            payload["ath"] = b64(hashlib.sha256(access_token.encode("ascii")).digest())
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk(), **(header or {})}
        return jwt.encode(payload, self.key, algorithm=self.alg, headers=headers)


@pytest.fixture
def client():
    return Client()


def refused(proof, error=INVALID_DPOP_PROOF, **request):
    request = {"htm": "POST", "htu": TOKEN_URL, **request}
    with pytest.raises(DPoPError) as caught:
        verify_proof(proof, **request)
    assert caught.value.error == error
    return caught.value


# --- RFC examples ------------------------------------------------------------------------------

RFC_HEADER = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0Rsc"
    "EJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19"
)
# RFC 9449 §4.1 Figure 4 (token request) and §7.1 Figure 13 (resource request with ath).
RFC_TOKEN_PROOF = (
    f"{RFC_HEADER}.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY2"
    "9tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70"
    "nfbV37xRZT3Lg"
)
RFC_RESOURCE_PROOF = (
    f"{RFC_HEADER}.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9y"
    "Zy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBc"
    "WtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
)
RFC_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # RFC 9449 §6.1


def test_rfc_9449_token_request_proof_verifies_with_the_rfcs_thumbprint():
    proof = verify_proof(RFC_TOKEN_PROOF, htm="POST", htu=TOKEN_URL, now=lambda: 1562262616)
    assert proof == dpop.Proof(jkt=RFC_JKT, jti="-BwC3ESc6acc2lTc", iat=1562262616)
    header = jwt.get_unverified_header(RFC_TOKEN_PROOF)
    assert header["typ"] == "dpop+jwt" and set(header["jwk"]) == {"kty", "x", "y", "crv"}


def test_rfc_9449_resource_request_proof_carries_the_access_token_hash():
    assert dpop.access_token_hash(RFC_ACCESS_TOKEN) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    proof = verify_proof(
        RFC_RESOURCE_PROOF,
        htm="GET",
        htu="https://resource.example.org/protectedresource",
        access_token=RFC_ACCESS_TOKEN,
        now=lambda: 1562262618,
    )
    assert proof.jkt == RFC_JKT
    refused(RFC_RESOURCE_PROOF, htm="GET", htu="https://resource.example.org/protectedresource",
            access_token="another token", now=lambda: 1562262618)  # fmt: skip


def test_rfc_7638_thumbprint_example():
    # RFC 7638 §3.1: the example RSA key and its thumbprint; members beyond the required ones
    # (alg, kid) do not count.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
        "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgd"
        "AZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur"
        "-kEgU8awapJzKnqDKgw"
    )
    member = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(member) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- accepted proofs ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA"])
def test_a_fresh_proof_by_each_default_algorithm_is_accepted(alg):
    client = Client(alg)
    proof = client.proof()
    result = verify_proof(proof, htm="POST", htu=TOKEN_URL)
    assert result.jkt == thumbprint(client.jwk())
    assert result.jti == jwt.decode(proof, options={"verify_signature": False})["jti"]


def test_the_header_list_with_one_value_is_accepted(client):
    assert verify_proof([client.proof()], htm="POST", htu=TOKEN_URL).jkt == thumbprint(client.jwk())


@pytest.mark.parametrize(
    "htu",
    [
        f"{TOKEN_URL}?code=abc",  # §4.3 point 9: query and fragment are ignored
        f"{TOKEN_URL}#fragment",
        "HTTPS://Server.Example.COM/token",  # RFC 3986 §6.2.2.1: scheme and host case
        "https://server.example.com:443/token",  # §6.2.3: default port
        "https://server.example.com/%74oken",  # §6.2.2.2: unreserved characters decoded
        "https://server.example.com/a/../token",  # §6.2.2.3: dot segments
    ],
)
def test_htu_is_compared_without_query_and_fragment_and_normalised(client, htu):
    verify_proof(client.proof(htu=htu), htm="POST", htu=TOKEN_URL)
    verify_proof(client.proof(), htm="POST", htu=htu)


def test_empty_path_equals_slash_and_percent_hex_case_does_not_matter():
    assert dpop.normalized_htu("https://a.example") == dpop.normalized_htu("https://a.example/")
    assert dpop.normalized_htu("https://a.example/%2f") == dpop.normalized_htu("https://a.example/%2F")
    assert dpop.normalized_htu("http://[::1]:80/x") == "http://[::1]/x"


# --- every rejection reason --------------------------------------------------------------------


def test_wrong_htm(client):
    refused(client.proof(htm="GET"))
    refused(client.proof(htm="post"))  # RFC 9110 §9.1: methods are case-sensitive


@pytest.mark.parametrize(
    "htu",
    [
        "https://server.example.com/other",
        "https://other.example.com/token",
        "http://server.example.com/token",
        "https://server.example.com:8443/token",
        "https://server.example.com/token/",
        "https://user@server.example.com/token",
        "/token",
        "https://server.example.com/to\tken",
    ],
)
def test_wrong_htu(client, htu):
    refused(client.proof(htu=htu))


def test_stale_iat(client):
    refused(client.proof(iat=int(time.time()) - 60 - 30 - 5))  # DPOP_PROOF_MAX_AGE + LEEWAY


def test_future_iat(client):
    refused(client.proof(iat=int(time.time()) + 30 + 5))  # LEEWAY


def test_iat_window_follows_the_setting(client, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "DPOP_PROOF_MAX_AGE": 600}
    verify_proof(client.proof(iat=int(time.time()) - 300), htm="POST", htu=TOKEN_URL)


def test_replayed_jti(client):
    proof = client.proof()
    verify_proof(proof, htm="POST", htu=TOKEN_URL)
    assert "already used" in refused(proof).description


def test_replayed_jti_in_a_new_proof_by_the_same_key(client):
    verify_proof(client.proof(jti="once"), htm="POST", htu=TOKEN_URL)
    refused(client.proof(jti="once"))
    verify_proof(Client().proof(jti="once"), htm="POST", htu=TOKEN_URL)  # another key's jti


def test_refused_proof_does_not_use_up_its_jti(client):
    refused(client.proof(jti="j", htm="GET"))
    verify_proof(client.proof(jti="j"), htm="POST", htu=TOKEN_URL)


def test_wrong_ath(client):
    refused(client.proof(access_token="token-a"), access_token="token-b")


def test_missing_ath_when_an_access_token_is_presented(client):
    refused(client.proof(), access_token="token-a")


def test_right_ath(client):
    verify_proof(client.proof(access_token="token-a"), htm="POST", htu=TOKEN_URL, access_token="token-a")


def test_signature_by_another_key(client):
    other = Client()
    proof = jwt.encode(
        {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())},
        other.key,
        algorithm="ES256",
        headers={"typ": "dpop+jwt", "jwk": client.jwk()},
    )
    assert "signature" in refused(proof).description


def test_private_jwk(client):
    assert "private" in refused(client.proof(header={"jwk": client.jwk(private=True)})).description


def test_symmetric_jwk(client):
    refused(client.proof(header={"jwk": {"kty": "oct", "k": b64(b"secret" * 6)}}))


def test_missing_jwk(client):
    refused(client.proof(header={"jwk": None}))


def test_alg_none(client):
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": client.jwk()}).encode())
    claims = b64(json.dumps({"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}).encode())
    refused(f"{header}.{claims}.")
    refused(f"{header}.{claims}.AAAA")


def test_hs256(client):
    proof = jwt.encode(
        {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())},
        "a-shared-secret-of-enough-length-0123456789",
        algorithm="HS256",
        headers={"typ": "dpop+jwt", "jwk": client.jwk()},
    )
    assert "algorithm" in refused(proof).description


def test_algorithm_not_in_the_setting(client, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "DPOP_SIGNING_ALGORITHMS": ["RS256"]}
    refused(client.proof())


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt"])
def test_wrong_typ(client, typ):
    refused(client.proof(header={"typ": typ}))


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_missing_claim(client, claim):
    proof = client.proof()
    payload = jwt.decode(proof, options={"verify_signature": False})
    del payload[claim]
    refused(
        jwt.encode(payload, client.key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": client.jwk()})
    )


def test_two_proofs(client):
    refused([client.proof(), client.proof()])
    refused(f"{client.proof()}, {client.proof()}")  # repeated header fields joined by the server


@pytest.mark.parametrize("proof", [None, [], ""])
def test_no_proof(proof):
    refused(proof)


# --- nonces (§8) -------------------------------------------------------------------------------


@pytest.fixture
def nonce_required(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "DPOP_NONCE_REQUIRED": True}


def test_missing_nonce(client, nonce_required):
    error = refused(client.proof(), USE_DPOP_NONCE)
    assert error.nonce == dpop.current_nonce()
    verify_proof(client.proof(nonce=error.nonce), htm="POST", htu=TOKEN_URL)


def test_wrong_nonce(client, nonce_required):
    assert refused(client.proof(nonce="made-up"), USE_DPOP_NONCE).nonce == dpop.current_nonce()


def test_previous_windows_nonce_is_accepted_and_older_ones_are_not(client, nonce_required):
    now = time.time()
    previous = dpop.current_nonce(now - 300)
    verify_proof(client.proof(nonce=previous), htm="POST", htu=TOKEN_URL)
    refused(client.proof(nonce=dpop.current_nonce(now - 600)), USE_DPOP_NONCE)


def test_nonce_is_not_required_by_default(client):
    verify_proof(client.proof(), htm="POST", htu=TOKEN_URL)


def test_nonces_rotate_and_depend_on_the_secret_key(settings):
    assert dpop.current_nonce(0) != dpop.current_nonce(300)
    assert dpop.current_nonce(0) == dpop.current_nonce(299)
    before = dpop.current_nonce(0)
    settings.SECRET_KEY = "another-secret-key-of-enough-length-0123456789"
    assert dpop.current_nonce(0) != before
    assert not dpop.nonce_valid(before, 0)


def test_a_nonce_the_caller_requires(client):
    refused(client.proof(nonce="other"), USE_DPOP_NONCE, nonce="resource-nonce")
    verify_proof(client.proof(nonce="resource-nonce"), htm="POST", htu=TOKEN_URL, nonce="resource-nonce")


def test_nonce_claim_that_is_not_a_string(client, nonce_required):
    refused(client.proof(nonce=12), USE_DPOP_NONCE)
    refused(client.proof(nonce="\u00e9"), USE_DPOP_NONCE)


# --- garbage never escapes as anything but DPoPError --------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "kid", "crit"]),
        st.one_of(
            st.text(max_size=8),
            st.integers(),
            st.none(),
            st.dictionaries(st.text(max_size=3), st.text(max_size=5)),
        ),
    ),
    claims=st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]),
        st.one_of(
            st.text(max_size=12), st.integers(), st.floats(), st.none(), st.lists(st.integers(), max_size=2)
        ),
    ),
    signature=st.text(max_size=20),
    raw=st.one_of(st.text(max_size=100), st.lists(st.text(max_size=20), max_size=3)),
)
def test_garbage_is_refused_with_dpop_error(header, claims, signature, raw, nonce_required):
    built = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{signature}"
    for proof in (built, raw):
        with pytest.raises(DPoPError):
            verify_proof(proof, htm="POST", htu=TOKEN_URL, access_token="t")


# --- system checks -----------------------------------------------------------------------------


def check_ids(settings, **changes):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, **changes}
    return {m.id for m in checks.run_checks() if m.id.startswith("oidc_provider.E1")}


@pytest.mark.parametrize("value", [[], ["HS256"], ["none"], "ES256", ["ES256", "HS512"]])
def test_e100_dpop_signing_algorithms(settings, value):
    assert check_ids(settings, DPOP_SIGNING_ALGORITHMS=value) == {"oidc_provider.E100"}


@pytest.mark.parametrize("setting", ["DPOP_PROOF_MAX_AGE", "DPOP_NONCE_LIFETIME"])
@pytest.mark.parametrize("value", [0, -1, "60", True, 1.5])
def test_e101_dpop_seconds(settings, setting, value):
    assert check_ids(settings, **{setting: value}) == {"oidc_provider.E101"}


def test_e102_dpop_nonce_required(settings):
    assert check_ids(settings, DPOP_NONCE_REQUIRED="yes") == {"oidc_provider.E102"}


def test_default_dpop_settings_are_clean(settings):
    assert check_ids(settings) == set()
