"""The demo relying party, with its HTTP calls routed to Django's test client (no network, no browser)."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from requests.structures import CaseInsensitiveDict

from example_project.rp import client as rp_client
from example_project.rp.views import PENDING_KEY, SESSION_KEY


class TestClientAdapter(requests.adapters.BaseAdapter):
    """A requests transport that answers from this Django project, like the server would."""

    __test__ = False

    def __init__(self):
        super().__init__()
        self.django = Client()
        self.calls = []

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        self.calls.append(f"{request.method} {url.path}")
        headers = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        answer = self.django.generic(
            request.method,
            f"{url.path}?{url.query}" if url.query else url.path,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            secure=url.scheme == "https",
            **headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def transport(monkeypatch):
    adapter = TestClientAdapter()

    def http():
        session = requests.Session()
        session.mount("https://testserver/", adapter)
        return session

    monkeypatch.setattr(rp_client, "http", http)
    return adapter


def rp_session(client, name="rp"):
    """The demo RP's own session (its cookie), apart from the provider's."""
    from django.contrib.sessions.backends.db import SessionStore

    cookie = client.cookies.get(f"{name}_session")
    return SessionStore(session_key=cookie.value if cookie else None)


@pytest.fixture
def demo(db):
    call_command("oidc_demo_setup", stdout=io.StringIO())


def _sign_in(client, prefix="rp"):
    """The browser's part: start at the RP, sign in at the provider, allow, come back."""
    start = client.get(f"/{prefix}/login")
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    query = parse_qs(authorize.query)
    assert authorize.path == "/o/authorize/"
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    client.login(username="demo", password="demo-password-123")
    form = client.get(f"{authorize.path}?{authorize.query}", secure=True)
    assert form.status_code == 200
    data = {name: form.context["form"][name].value() or "" for name in form.context["form"].fields}
    data["allow"] = "Authorize"
    data["csrfmiddlewaretoken"] = str(form.context["csrf_token"])  # marks the POST as the consent form
    consent = client.post(authorize.path, data, secure=True)
    assert consent.status_code == 302, consent.content
    callback = urlsplit(consent["Location"])
    assert callback.path == f"/{prefix}/callback"
    return client.get(f"{callback.path}?{callback.query}")


def test_full_flow_verifies_tokens_and_calls_the_api(client, transport, demo):
    response = _sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/rp/"
    assert transport.calls == [
        "GET /o/.well-known/openid-configuration",  # login
        "GET /o/.well-known/openid-configuration",  # callback
        "POST /o/token/",
        "GET /o/.well-known/jwks.json",
        "GET /api/me",
        "GET /o/userinfo/",
    ]
    page = client.get("/rp/")
    checks = {c["name"]: c["ok"] for c in page.context["id_token"]["checks"]}
    assert checks == {
        "signature": True,
        "iss": True,
        "aud": True,
        "exp": True,
        "nonce": True,
        "at_hash": True,
    }
    assert page.context["api"]["status"] == 200
    assert page.context["api"]["body"]["username"] == "demo"
    # Userinfo: the claims of the scopes the user allowed (openid profile email), on the page.
    claims = dict(page.context["userinfo"]["rows"])
    assert claims["preferred_username"] == "demo" and "email" in claims and "sub" in claims
    assert "phone_number" not in claims and "address" not in claims  # scopes not requested
    assert 'id="userinfo"' in page.content.decode()
    assert '"typ": "at+jwt"' in page.context["access_token"]["header"]


def test_callback_rejects_a_wrong_state(client, transport, demo):
    client.get("/rp/login")
    response = client.get("/rp/callback", {"code": "stolen-code", "state": "not-the-one-we-sent"})
    assert response.status_code == 400
    assert "state does not match" in response.content.decode()
    assert transport.calls == ["GET /o/.well-known/openid-configuration"]  # no token exchange


def test_callback_without_a_pending_sign_in_is_rejected(client, transport, demo):
    response = client.get("/rp/callback", {"code": "c", "state": "s"})
    assert response.status_code == 400
    assert transport.calls == []


def test_state_is_single_use(client, transport, demo):
    client.get("/rp/login")
    state = rp_session(client)[PENDING_KEY]["state"]
    client.get("/rp/callback", {"error": "access_denied", "state": state})
    replay = client.get("/rp/callback", {"code": "c", "state": state})
    assert replay.status_code == 400
    assert "POST /o/token/" not in transport.calls


def test_id_token_with_wrong_nonce_fails_the_nonce_check(transport, demo, client):
    _sign_in(client)
    data = rp_session(client)[SESSION_KEY]
    metadata = rp_client.discover()
    checks = rp_client.verify_token(
        data["id_token"],
        rp_client.fetch_jwks(metadata),
        issuer=metadata["issuer"],
        audience="demo-confidential",
        nonce="another-nonce",
        access_token=data["access_token"] + "x",
    )
    failed = {c["name"] for c in checks if not c["ok"]}
    assert failed == {"nonce", "at_hash"}


def test_sign_out_goes_to_the_providers_end_session_endpoint(client, transport, demo, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RP_INITIATED_LOGOUT_ENABLED": True}
    _sign_in(client)
    id_token = rp_session(client)[SESSION_KEY]["id_token"]
    response = client.post("/rp/logout")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/o/logout/"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["https://testserver/rp/"]
    assert SESSION_KEY not in rp_session(client)
    # The provider accepts the hint and, once confirmed, returns to the RP signed out.
    confirm = client.get(f"{target.path}?{target.query}", secure=True)
    assert confirm.status_code == 200
    data = {name: confirm.context["form"][name].value() or "" for name in confirm.context["form"].fields}
    done = client.post(target.path, {**data, "allow": "Logout"}, secure=True)
    assert done.status_code == 302 and done["Location"] == "https://testserver/rp/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_rp_home_offers_sign_in_without_external_assets(client):
    body = client.get("/rp/").content.decode()
    assert 'href="/rp/login"' in body
    assert "http://" not in body and "https://" not in body
    assert "Not signed in" in body


@pytest.fixture
def backchannel(monkeypatch):
    """Route the provider's back-channel POSTs to this project (the RPs' endpoints) by test client."""
    from oidc_provider import logout_http

    rp_side = Client()
    sent = []

    def post_form(uri, data, *, timeout):
        sent.append(uri)
        return rp_side.post(urlsplit(uri).path, data, secure=True).status_code

    monkeypatch.setattr(logout_http, "post_form", post_form)
    return sent


def test_signing_out_of_one_rp_signs_out_of_the_other(
    client, transport, demo, settings, backchannel, django_capture_on_commit_callbacks
):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RP_INITIATED_LOGOUT_ENABLED": True}
    _sign_in(client, "rp")
    _sign_in(client, "rp2")
    assert client.get("/rp2/").context["signed_in"]
    target = urlsplit(client.post("/rp/logout")["Location"])
    confirm = client.get(f"{target.path}?{target.query}", secure=True)
    data = {name: confirm.context["form"][name].value() or "" for name in confirm.context["form"].fields}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(target.path, {**data, "allow": "Logout"}, secure=True)
    assert sorted(backchannel) == [
        "https://testserver/rp/backchannel-logout",
        "https://testserver/rp2/backchannel-logout",
    ]
    page = client.get("/rp2/")
    assert not page.context["signed_in"] and page.context["signed_out_by_provider"]
    assert "Signed out by the provider." in page.content.decode()
    first = client.get("/rp/")  # the RP that signed out itself just shows signed out
    assert not first.context["signed_in"] and not first.context["signed_out_by_provider"]


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0."])
def test_backchannel_endpoint_refuses_what_is_not_a_logout_token(client, transport, demo, token):
    response = client.post("/rp2/backchannel-logout", {"logout_token": token}, secure=True)
    assert response.status_code == 400 and response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "invalid_request"


def test_backchannel_endpoint_refuses_an_id_token(client, transport, demo):
    _sign_in(client, "rp2")
    id_token = rp_session(client, "rp2")[SESSION_KEY]["id_token"]
    response = client.post("/rp2/backchannel-logout", {"logout_token": id_token}, secure=True)
    assert response.status_code == 400
    assert "typ" in response.json()["error_description"]
    assert client.get("/rp2/").context["signed_in"]


def test_backchannel_endpoint_refuses_a_token_for_the_other_rp(client, transport, demo):
    from oauth2_provider.models import get_application_model

    from oidc_provider import logout_tokens

    _sign_in(client, "rp2")
    sid = client.session["oidc_sid"]
    other = get_application_model().objects.get(client_id="demo-confidential")
    token = logout_tokens.build(other, subject=None, sid=sid)
    assert client.post("/rp2/backchannel-logout", {"logout_token": token}, secure=True).status_code == 400
    assert client.get("/rp2/").context["signed_in"]
