"""The authorization endpoint as a relying party sees it (OIDC Core §3.1.2, RFC 9207).

Real session cookies (the real login page or ``client.login``), authorization code +
PKCE (S256), token exchange at /o/token/, ID tokens verified with the published JWKS.
"""

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import hypothesis
import jwt
import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model

from oidc_provider import authn
from oidc_provider.tokens import sign

from .conftest import basic_auth
from .factories import PASSWORD, ApplicationFactory, SigningKeyFactory, UserFactory

ISSUER = "https://testserver/o"
REDIRECT = "https://rp.example.com/callback"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def app(db):
    return ApplicationFactory()


@pytest.fixture
def consent_app(db):
    return ApplicationFactory(skip_authorization=False)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def request_params(app, **params) -> tuple[dict, str]:
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "st-42",
        "nonce": "n-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(params)
    return query, verifier


def authorize(client, app, **params):
    query, verifier = request_params(app, **params)
    return client.get("/o/authorize/", query), verifier


def callback(response) -> dict[str, str]:
    """The parameters the client receives at its redirect URI."""
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(client, app, code: str, verifier: str) -> dict:
    response = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, app, refresh_token: str, **extra) -> dict:
    response = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )
    assert response.status_code == 200, response.content
    return response.json()


def id_claims(client, app, id_token: str) -> dict:
    keys = {k["kid"]: k for k in client.get("/o/.well-known/jwks.json").json()["keys"]}
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwt.PyJWK(keys[kid]).key
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=app.client_id, issuer=ISSUER)


def sign_in(client, user) -> int:
    """Log in through the real login page; returns the session's auth_time."""
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.session[authn.SESSION_AUTH_TIME]


def age_session(client, seconds: int) -> int:
    """Pretend the last login happened ``seconds`` ago; returns that auth_time."""
    session = client.session
    session[authn.SESSION_AUTH_TIME] -= seconds
    session.save()
    return session[authn.SESSION_AUTH_TIME]


def consent_form(response) -> dict[str, str]:
    """What a browser submits when the user clicks "Authorize" on DOT's consent page."""
    fields = {k: v or "" for k, v in response.context["form"].initial.items()}
    return {**fields, "csrfmiddlewaretoken": str(response.context["csrf_token"]), "allow": "Authorize"}


def code_flow(client, app, **params) -> tuple[dict, dict]:
    response, verifier = authorize(client, app, **params)
    tokens = exchange(client, app, callback(response)["code"], verifier)
    return tokens, id_claims(client, app, tokens["id_token"])


# -- the basic flow, auth_time and RFC 9207 -----------------------------------------------


def test_code_flow_returns_code_with_iss_and_id_token_with_session_auth_time(client, app, user):
    auth_time = sign_in(client, user)
    response, verifier = authorize(client, app)
    params = callback(response)
    assert params["iss"] == ISSUER
    assert params["state"] == "st-42"
    tokens = exchange(client, app, params["code"], verifier)
    claims = id_claims(client, app, tokens["id_token"])
    assert claims["sub"] == str(user.pk)
    assert claims["auth_time"] == auth_time
    assert claims["nonce"] == "n-42"
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["auth_time"] == auth_time


def test_error_redirects_carry_iss(client, app, user):
    client.force_login(user)
    response, _ = authorize(client, app, scope="openid not-a-scope")
    params = callback(response)
    assert params["error"] == "invalid_scope"
    assert params["iss"] == ISSUER
    assert params["state"] == "st-42"


def test_both_discovery_documents_advertise_iss_and_claims(client):
    oidc = client.get("/o/.well-known/openid-configuration").json()
    oauth = client.get("/o/.well-known/oauth-authorization-server").json()
    assert oidc["authorization_response_iss_parameter_supported"] is True
    assert oauth["authorization_response_iss_parameter_supported"] is True
    assert oidc["claims_parameter_supported"] is True
    assert {"sub", "email", "name", "auth_time"} <= set(oidc["claims_supported"])  # what the provider returns
    assert {"none", "login", "consent"} <= set(oidc["prompt_values_supported"])


# -- prompt=none ---------------------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(client, app):
    response, _ = authorize(client, app, prompt="none")
    params = callback(response)
    assert params["error"] == "login_required"
    assert params["state"] == "st-42"
    assert params["iss"] == ISSUER


def test_prompt_none_without_consent_is_consent_required(client, consent_app, user):
    sign_in(client, user)
    response, _ = authorize(client, consent_app, prompt="none")
    params = callback(response)
    assert params["error"] == "consent_required"
    assert params["state"] == "st-42"
    assert params["iss"] == ISSUER


def test_prompt_none_with_session_returns_code_with_same_sub_and_auth_time(client, app, user):
    sign_in(client, user)
    _, first = code_flow(client, app)
    _, silent = code_flow(client, app, prompt="none")
    assert silent["sub"] == first["sub"] == str(user.pk)
    assert silent["auth_time"] == first["auth_time"]


def test_prompt_none_with_remembered_consent_is_silent(client, consent_app, user):
    sign_in(client, user)
    response, verifier = authorize(client, consent_app, approval_prompt="auto")
    assert response.status_code == 200  # the consent form
    consent = client.post("/o/authorize/", consent_form(response))
    exchange(client, consent_app, callback(consent)["code"], verifier)
    response, _ = authorize(client, consent_app, prompt="none", approval_prompt="auto")
    assert "code" in callback(response)


def test_prompt_none_combined_with_login_is_invalid(client, app, user):
    sign_in(client, user)
    response, _ = authorize(client, app, prompt="none login")
    assert callback(response)["error"] == "invalid_request"


# -- prompt=login, prompt=consent, max_age -------------------------------------------------


def test_prompt_login_forces_a_fresh_login_through_the_login_page(client, app, user):
    sign_in(client, user)
    old = age_session(client, 3600)
    response, verifier = authorize(client, app, prompt="login")
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    next_url = parse_qs(login.query)["next"][0]
    assert "prompt" not in parse_qs(urlsplit(next_url).query)
    back = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": next_url}, follow=True
    )
    code = parse_qs(urlsplit(back.redirect_chain[-1][0]).query)["code"][0]
    claims = id_claims(client, app, exchange(client, app, code, verifier)["id_token"])
    assert claims["auth_time"] == client.session[authn.SESSION_AUTH_TIME]
    assert claims["auth_time"] > old


def test_prompt_consent_shows_the_form_even_for_trusted_clients(client, app, user):
    assert app.skip_authorization
    sign_in(client, user)
    response, verifier = authorize(client, app, prompt="consent")
    assert response.status_code == 200
    assert response.context["form"].initial["client_id"] == app.client_id
    consent = client.post("/o/authorize/", consent_form(response))
    params = callback(consent)
    assert params["iss"] == ISSUER
    assert (
        id_claims(client, app, exchange(client, app, params["code"], verifier)["id_token"])["nonce"] == "n-42"
    )


def test_max_age_exceeded_sends_the_user_to_log_in_again(client, app, user):
    sign_in(client, user)
    old = age_session(client, 3600)
    response, verifier = authorize(client, app, max_age="60")
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    next_url = parse_qs(login.query)["next"][0]
    back = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": next_url}, follow=True
    )
    code = parse_qs(urlsplit(back.redirect_chain[-1][0]).query)["code"][0]
    claims = id_claims(client, app, exchange(client, app, code, verifier)["id_token"])
    assert claims["auth_time"] > old


def test_max_age_within_limit_returns_auth_time(client, app, user):
    auth_time = sign_in(client, user)
    _, claims = code_flow(client, app, max_age="3600")
    assert claims["auth_time"] == auth_time


def test_max_age_exceeded_with_prompt_none_is_login_required(client, app, user):
    sign_in(client, user)
    age_session(client, 3600)
    response, _ = authorize(client, app, max_age="60", prompt="none")
    assert callback(response)["error"] == "login_required"


def test_malformed_max_age_is_invalid_request(client, app, user):
    sign_in(client, user)
    response, _ = authorize(client, app, max_age="soon")
    params = callback(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-42"


# -- id_token_hint ---------------------------------------------------------------------------


def test_id_token_hint_with_prompt_none_returns_code(client, app, user):
    sign_in(client, user)
    tokens, first = code_flow(client, app)
    response, verifier = authorize(client, app, prompt="none", id_token_hint=tokens["id_token"])
    silent = id_claims(client, app, exchange(client, app, callback(response)["code"], verifier)["id_token"])
    assert silent["sub"] == first["sub"]


def test_expired_id_token_hint_is_accepted(client, app, user):
    sign_in(client, user)
    now = int(time.time())
    hint = sign(
        {"iss": ISSUER, "sub": str(user.pk), "aud": app.client_id, "iat": now - 7200, "exp": now - 3600},
        "RS256",
        "JWT",
    )
    response, _ = authorize(client, app, prompt="none", id_token_hint=hint)
    assert "code" in callback(response)


def test_id_token_hint_for_another_user_is_login_required(client, app, user):
    other = UserFactory()
    other_client = Client()
    sign_in(other_client, other)
    hint = code_flow(other_client, app)[0]["id_token"]
    sign_in(client, user)
    response, _ = authorize(client, app, prompt="none", id_token_hint=hint)
    assert callback(response)["error"] == "login_required"
    response, _ = authorize(client, app, id_token_hint=hint)
    assert callback(response)["error"] == "login_required"


@pytest.mark.parametrize("hint", ["not-a-jwt", "access-token"])
def test_invalid_id_token_hint_is_invalid_request(client, app, user, hint):
    sign_in(client, user)
    if hint == "access-token":
        hint = code_flow(client, app)[0]["access_token"]  # signed by us, but not an ID token
    response, _ = authorize(client, app, prompt="none", id_token_hint=hint)
    params = callback(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-42"


# -- claims ---------------------------------------------------------------------------------


def userinfo(client, access_token: str) -> dict:
    response = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 200, response.content
    return response.json()


def test_scope_claims_go_to_userinfo_not_the_id_token(client, app, user):
    sign_in(client, user)
    tokens, claims = code_flow(client, app, scope="openid email profile")
    assert "email" not in claims
    info = userinfo(client, tokens["access_token"])
    assert info["email"] == user.email
    assert info["given_name"] == "Ada"
    assert info["sub"] == claims["sub"]


def test_claims_parameter_puts_claims_in_id_token_and_userinfo(client, app, user):
    sign_in(client, user)
    requested = {"id_token": {"email": {"essential": True}}, "userinfo": {"family_name": None}}
    tokens, claims = code_flow(client, app, claims=json.dumps(requested))
    assert claims["email"] == user.email
    assert "family_name" not in claims
    info = userinfo(client, tokens["access_token"])
    assert info["family_name"] == "Lovelace"
    assert "email" not in info  # neither the email scope nor claims.userinfo asked for it
    refreshed = refresh(client, app, tokens["refresh_token"])
    assert userinfo(client, refreshed["access_token"])["family_name"] == "Lovelace"
    assert id_claims(client, app, refreshed["id_token"])["email"] == user.email


def test_claims_parameter_with_another_sub_is_login_required(client, app, user):
    sign_in(client, user)
    requested = {"id_token": {"sub": {"value": "someone-else"}}}
    response, _ = authorize(client, app, claims=json.dumps(requested))
    assert callback(response)["error"] == "login_required"


@pytest.mark.parametrize("claims", ['["email"]', '{"id_token": ["email"]}', '{"userinfo": {"email": true}}'])
def test_malformed_claims_parameter_is_invalid_request(client, app, user, claims):
    sign_in(client, user)
    response, _ = authorize(client, app, claims=claims)
    assert callback(response)["error"] == "invalid_request"


def test_claims_parameter_that_is_not_json_is_shown_to_the_user(client, app, user):
    sign_in(client, user)
    response, _ = authorize(client, app, claims="{not json")
    assert response.status_code == 400
    assert "Location" not in response
    assert b"invalid_request" in response.content


# -- offline_access and refreshed ID tokens -------------------------------------------------


def test_refresh_tokens_are_issued_by_default(client, app, user):
    sign_in(client, user)
    tokens, _ = code_flow(client, app)
    assert "refresh_token" in tokens


def test_offline_access_required_for_refresh_when_configured(client, app, user, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "REQUIRE_OFFLINE_ACCESS_FOR_REFRESH": True}
    sign_in(client, user)
    without, _ = code_flow(client, app)
    assert "refresh_token" not in without
    response, verifier = authorize(client, app, scope="openid offline_access")
    tokens = exchange(client, app, callback(response)["code"], verifier)
    assert tokens["refresh_token"]
    assert "offline_access" in tokens["scope"].split()


@pytest.mark.parametrize("rotate", [True, False])
def test_refreshed_id_token_keeps_identity_and_auth_time(client, app, user, settings, rotate):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ROTATE_REFRESH_TOKEN": rotate}
    sign_in(client, user)
    tokens, first = code_flow(client, app)
    # A later login elsewhere must not change the auth_time of this authorization.
    sign_in(Client(), user)
    refreshed = refresh(client, app, tokens["refresh_token"], nonce="client-chosen")
    second = id_claims(client, app, refreshed["id_token"])
    for name in ("iss", "sub", "aud", "auth_time"):
        assert second[name] == first[name], name
    assert "azp" not in second and "azp" not in first
    assert second["jti"] != first["jti"]
    assert "nonce" not in second  # OIDC Core §12.2: never repeated, never taken from the client
    again = refresh(client, app, refreshed["refresh_token"])
    assert id_claims(client, app, again["id_token"])["auth_time"] == first["auth_time"]


def test_refreshed_auth_time_is_not_last_login(client, app, user):
    sign_in(client, user)
    tokens, first = code_flow(client, app)
    user.refresh_from_db()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login.replace(year=2001))
    second = id_claims(client, app, refresh(client, app, tokens["refresh_token"])["id_token"])
    assert second["auth_time"] == first["auth_time"]


# -- redirect_uri errors, unknown parameters, POST requests ----------------------------------


def test_unregistered_redirect_uri_is_shown_not_redirected(client, app, user):
    sign_in(client, user)
    response, _ = authorize(client, app, redirect_uri="https://evil.example.com/cb")
    assert response.status_code == 400
    assert "Location" not in response


def test_missing_redirect_uri_with_several_registered_is_shown(client, user):
    app = ApplicationFactory(redirect_uris=f"{REDIRECT} https://rp.example.com/other")
    sign_in(client, user)
    query, _ = request_params(app)
    del query["redirect_uri"]
    response = client.get("/o/authorize/", query)
    assert response.status_code == 400
    assert "Location" not in response


def test_unregistered_redirect_uri_with_prompt_none_is_shown(client, app):
    response, _ = authorize(client, app, prompt="none", redirect_uri="https://evil.example.com/cb")
    assert response.status_code == 400
    assert "Location" not in response


def test_unknown_parameters_are_ignored(client, app, user):
    sign_in(client, user)
    _, claims = code_flow(client, app, frobnicate="yes", display="page", ui_locales="en")
    assert claims["sub"] == str(user.pk)


def test_post_authorization_request_works_like_get(client, app, user):
    sign_in(client, user)
    query, verifier = request_params(app)
    params = callback(client.post("/o/authorize/", query))
    assert params["iss"] == ISSUER
    claims = id_claims(client, app, exchange(client, app, params["code"], verifier)["id_token"])
    assert claims["nonce"] == "n-42"


def test_post_authorization_request_without_session_keeps_its_parameters(client, app):
    query, _ = request_params(app)
    response = client.post("/o/authorize/", query)
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    next_query = parse_qs(urlsplit(parse_qs(login.query)["next"][0]).query)
    assert next_query["client_id"] == [app.client_id]
    assert next_query["nonce"] == ["n-42"]


def test_consent_form_post_still_requires_csrf(consent_app, user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    query, _ = request_params(consent_app)
    response = browser.post("/o/authorize/", {**query, "allow": "Authorize", "csrfmiddlewaretoken": "forged"})
    assert response.status_code == 403
    assert get_access_token_model().objects.count() == 0


@hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(hint=hypothesis.strategies.text(min_size=1, max_size=200).filter(str.strip))
def test_fuzzed_id_token_hints_never_log_in_and_never_500(client, app, user, hint):
    client.force_login(user)
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "prompt": "none",
            "id_token_hint": hint,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "code=" not in response["Location"]


# -- edges answered by the spec, never a 500 (issue #16) -------------------------------------


@pytest.mark.parametrize("hint", ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_bad_id_token_hint_without_openid_scope_is_invalid_request(client, app, user, hint):
    sign_in(client, user)
    response, _ = authorize(client, app, scope="read", prompt="none", id_token_hint=hint)
    params = callback(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "st-42"


@pytest.mark.parametrize("max_age", ["9" * 5000, "9" * 400, "-1", "1e9", "٣"])
def test_huge_or_odd_max_age_is_invalid_request_without_python_messages(client, app, user, max_age):
    sign_in(client, user)
    response, _ = authorize(client, app, max_age=max_age)
    params = callback(response)
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "max_age must be a non-negative integer of seconds."
