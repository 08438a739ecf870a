"""Relying-party pages: sign in with the provider (code + PKCE), show the tokens, call the API.

The RP keeps its data in its own session (``session.py``: a cookie of its own), so signing in
to the provider or the admin of the same demo project never wipes it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import client
from .session import uses_rp_session

SESSION_KEY = "demo_rp"
PENDING_KEY = "demo_rp_pending"


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
@uses_rp_session
def home(request: HttpRequest) -> HttpResponse:
    data = request.rp_session.get(SESSION_KEY)
    context: dict[str, Any] = {"signed_in": bool(data)}
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
@uses_rp_session
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow with PKCE S256, state and nonce (OIDC Core §3.1.2.1)."""
    try:
        metadata = client.discover()
    except client.RelyingPartyError as exc:
        return render(request, "rp/error.html", {"error": str(exc)}, status=502)
    verifier, challenge = client.new_pkce()
    pending = {"state": secrets.token_urlsafe(24), "nonce": secrets.token_urlsafe(24), "verifier": verifier}
    request.rp_session[PENDING_KEY] = pending
    conf = client.conf()
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
    return redirect(f"{metadata['authorization_endpoint']}?{query}")


@never_cache
@require_GET
@uses_rp_session
def callback(request: HttpRequest) -> HttpResponse:
    """Check state, exchange the code, verify the ID token, call the API (OIDC Core §3.1.2.5-3.1.3.7)."""
    pending = request.rp_session.pop(PENDING_KEY, None)
    state = request.GET.get("state", "")
    # RFC 6749 §10.12: a response whose state this browser did not start is a CSRF attempt.
    if not pending or not secrets.compare_digest(state.encode(), pending["state"].encode()):
        return render(
            request,
            "rp/error.html",
            {"error": "The state does not match a sign-in started here; nothing was exchanged."},
            status=400,
        )
    if "error" in request.GET:
        error = f"The provider answered {request.GET['error']}: {request.GET.get('error_description', '')}"
        return render(request, "rp/error.html", {"error": error}, status=400)
    try:
        metadata = client.discover()
        tokens = client.exchange_code(metadata, request.GET.get("code", ""), pending["verifier"])
        jwks = client.fetch_jwks(metadata)
    except client.RelyingPartyError as exc:
        return render(request, "rp/error.html", {"error": str(exc)}, status=502)
    conf = client.conf()
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
        return render(request, "rp/error.html", {"error": f"ID token rejected ({failed})."}, status=400)
    # The RP treats the access token as opaque; it is decoded here only to show what the API sees.
    at_checks = client.verify_token(access_token, jwks, issuer=metadata["issuer"], audience=None)
    request.rp_session[SESSION_KEY] = {
        "id_token": id_token,
        "access_token": access_token,
        "id_checks": id_checks,
        "at_checks": at_checks,
        "api": client.call_api(access_token),
        "userinfo": client.fetch_userinfo(metadata, access_token),
    }
    return redirect("rp:home")


@require_POST
@uses_rp_session
def call_api_again(request: HttpRequest) -> HttpResponse:
    data = request.rp_session.get(SESSION_KEY)
    if data:
        data["api"] = client.call_api(data["access_token"])
        request.rp_session[SESSION_KEY] = data
    return redirect("rp:home")


@require_POST
@uses_rp_session
def logout(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2) with id_token_hint."""
    data = request.rp_session.pop(SESSION_KEY, None)
    if not data:
        return redirect("rp:home")
    try:
        metadata = client.discover()
    except client.RelyingPartyError as exc:
        return render(request, "rp/error.html", {"error": str(exc)}, status=502)
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return redirect("rp:home")
    conf = client.conf()
    query = urlencode(
        {
            "id_token_hint": data["id_token"],
            "client_id": conf["CLIENT_ID"],
            "post_logout_redirect_uri": conf["POST_LOGOUT_REDIRECT_URI"],
        }
    )
    return redirect(f"{endpoint}?{query}")
