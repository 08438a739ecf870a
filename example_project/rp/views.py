"""Relying-party pages: sign in with the provider (code + PKCE), show the tokens, call the API,
and the back-channel logout endpoint that lets the provider end this RP's session.

Two RPs run from this code (``/rp/`` and ``/rp2/``, two clients of the provider); each keeps
its data in its own session (``session.py``), apart from the provider's.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import client, session

SESSION_KEY = "demo_rp"
PENDING_KEY = "demo_rp_pending"


def _name(request: HttpRequest) -> str:
    """Which demo RP this request is for: the URL namespace it was mounted under."""
    return request.resolver_match.namespace or "rp"


def _home(request: HttpRequest) -> str:
    return reverse("rp:home", current_app=_name(request))


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def _token_view(token: str, checks: list[dict[str, Any]]) -> dict[str, Any]:
    parts = client.unverified_parts(token)
    return {
        "header": _pretty(parts["header"]),
        "claims": _pretty(parts["claims"]),
        "exp": parts["claims"].get("exp"),
        "checks": checks,
        "valid": bool(checks) and all(c["ok"] for c in checks),
    }


def _claims(userinfo: dict[str, Any] | None) -> dict[str, Any] | None:
    """Userinfo as rows for the page: the claims the user allowed, or the error."""
    if not userinfo:
        return None
    body = userinfo["body"]
    rows = (
        sorted((k, v if isinstance(v, str) else json.dumps(v)) for k, v in body.items())
        if isinstance(body, dict)
        else []
    )
    return {**userinfo, "rows": rows, "ok": userinfo["status"] == 200 and isinstance(body, dict)}


@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    name = _name(request)
    store = session.load(request, name)
    data = store.get(SESSION_KEY)
    context: dict[str, Any] = {
        "signed_in": bool(data),
        "rp": client.conf(name),
        "signed_out_by_provider": not data and session.ended_by_provider(request, name),
    }
    if data:
        context.update(
            id_token=_token_view(data["id_token"], data["id_checks"]),
            access_token=_token_view(data["access_token"], data["at_checks"]),
            api=data["api"],
            api_body=_pretty(data["api"]["body"]),
            userinfo=_claims(data.get("userinfo")),
        )
    return render(request, "rp/home.html", context)


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow with PKCE S256, state and nonce (OIDC Core §3.1.2.1)."""
    name = _name(request)
    try:
        metadata = client.discover()
    except client.RelyingPartyError as exc:
        return render(request, "rp/error.html", {"error": str(exc)}, status=502)
    verifier, challenge = client.new_pkce()
    pending = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": verifier}
    store = session.load(request, name)
    store[PENDING_KEY] = pending
    conf = client.conf(name)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": conf["CLIENT_ID"],
            "redirect_uri": conf["REDIRECT_URI"],
            "scope": conf["SCOPE"],
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return session.save(redirect(f"{metadata['authorization_endpoint']}?{query}"), store, name)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Check state, exchange the code, verify the ID token, call the API (OIDC Core §3.1.2.5-3.1.3.7)."""
    name = _name(request)
    store = session.load(request, name)
    pending = store.pop(PENDING_KEY, None)
    state = request.GET.get("state", "")
    # RFC 6749 §10.12: a response whose state this browser did not start is a CSRF attempt.
    if not pending or not secrets.compare_digest(state.encode(), pending["state"].encode()):
        error = "The state does not match a sign-in started here; nothing was exchanged."
        return session.save(render(request, "rp/error.html", {"error": error}, status=400), store, name)
    if "error" in request.GET:
        error = f"The provider answered {request.GET['error']}: {request.GET.get('error_description', '')}"
        return session.save(render(request, "rp/error.html", {"error": error}, status=400), store, name)
    conf = client.conf(name)
    try:
        metadata = client.discover()
        tokens = client.exchange_code(metadata, request.GET.get("code", ""), pending["verifier"], conf)
        jwks = client.fetch_jwks(metadata)
    except client.RelyingPartyError as exc:
        return session.save(render(request, "rp/error.html", {"error": str(exc)}, status=502), store, name)
    id_token, access_token = tokens["id_token"], tokens["access_token"]
    id_checks = client.verify_token(
        id_token,
        jwks,
        issuer=metadata["issuer"],
        audience=conf["CLIENT_ID"],
        nonce=pending["nonce"],
        access_token=access_token,
    )
    if not all(c["ok"] for c in id_checks):
        failed = ", ".join(c["name"] for c in id_checks if not c["ok"])
        error = f"ID token rejected ({failed})."
        return session.save(render(request, "rp/error.html", {"error": error}, status=400), store, name)
    # The RP treats the access token as opaque; it is decoded here only to show what the API sees.
    at_checks = client.verify_token(access_token, jwks, issuer=metadata["issuer"], audience=None)
    store.cycle_key()  # a new session for the signed-in user (session fixation)
    store[SESSION_KEY] = {
        "id_token": id_token,
        "access_token": access_token,
        "id_checks": id_checks,
        "at_checks": at_checks,
        "api": client.call_api(access_token),
        "userinfo": client.fetch_userinfo(metadata, access_token),
    }
    response = session.save(redirect(_home(request)), store, name)
    sid = client.unverified_parts(id_token)["claims"].get("sid")  # verified just above
    if sid:
        session.remember_sid(name, sid, store)
    return response


@require_POST
def call_api_again(request: HttpRequest) -> HttpResponse:
    name = _name(request)
    store = session.load(request, name)
    data = store.get(SESSION_KEY)
    if data:
        data["api"] = client.call_api(data["access_token"])
        store[SESSION_KEY] = data
    return session.save(redirect(_home(request)), store, name)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2) with id_token_hint."""
    name = _name(request)
    store = session.load(request, name)
    data = store.pop(SESSION_KEY, None)
    if not data:
        return session.save(redirect(_home(request)), store, name)
    sid = client.unverified_parts(data["id_token"])["claims"].get("sid")
    if sid:
        session.forget_sid(name, sid)  # ended here already: the provider's notice finds nothing
    try:
        metadata = client.discover()
    except client.RelyingPartyError as exc:
        return session.save(render(request, "rp/error.html", {"error": str(exc)}, status=502), store, name)
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return session.save(redirect(_home(request)), store, name)
    conf = client.conf(name)
    query = urlencode(
        {
            "id_token_hint": data["id_token"],
            "client_id": conf["CLIENT_ID"],
            "post_logout_redirect_uri": conf["POST_LOGOUT_REDIRECT_URI"],
        }
    )
    return session.save(redirect(f"{endpoint}?{query}"), store, name)


@csrf_exempt  # called by the provider, server to server, with a signed logout token
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """OpenID Connect Back-Channel Logout 1.0 §2.5-2.8: validate the logout token, end our session."""
    name = _name(request)
    token = request.POST.get("logout_token", "")
    try:
        metadata = client.discover()
        claims = client.verify_logout_token(
            token,
            client.fetch_jwks(metadata),
            issuer=metadata["issuer"],
            client_id=client.conf(name)["CLIENT_ID"],
        )
    except (client.RelyingPartyError, jwt.PyJWTError, ValueError, KeyError) as exc:
        body = {"error": "invalid_request", "error_description": str(exc) or exc.__class__.__name__}
        response: HttpResponse = JsonResponse(body, status=400)
    else:
        # This RP keys its sessions by sid (it registered backchannel_logout_session_required).
        if claims.get("sid"):
            session.end_for_sid(name, claims["sid"])
        response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"  # §2.8
    return response
