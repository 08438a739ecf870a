"""The admin's JWT inspector: paste a token, see its header, claims, key and every check.

Each check is one call of ``validation.decode`` with the token's profile (``ACCESS_TOKEN`` or
``ID_TOKEN``) reduced to that one check, so the inspector cannot disagree with the resource
servers; the verdict is ``decode`` with the whole profile. The pasted token comes by POST
and is never stored, logged or echoed back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.models import get_access_token_model, get_application_model, get_id_token_model

from . import jose
from .conf import oidc_settings
from .keys import keyring
from .models import SigningKey
from .profiles import profile_for
from .validation import ACCESS_TOKEN, ID_TOKEN, LocalKeys, Profile, audience_list, decode

TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")


class InspectForm(forms.Form):
    token = forms.CharField(
        label="Token",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100, "autocomplete": "off", "spellcheck": "false"}),
        help_text="A compact JWT: an access token (at+jwt) or an ID token. It is not stored or logged.",
    )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not checked
    detail: str


#: Signature only: the profile with every claim rule off (each check switches one back on).
SIGNATURE_ONLY = dataclasses.replace(ACCESS_TOKEN, name="signature", typ=None, required=(), check_exp=False)


def _decode_error(
    token: str, profile: Profile = SIGNATURE_ONLY, issuer: str | None = None, **options: Any
) -> str | None:
    """Run ``decode`` with ``profile`` (default: signature only); the error message or None."""
    # At the end of time nothing is "not yet valid": nbf/iat stay off unless a check sets now.
    options.setdefault("now", lambda: math.inf)
    try:
        decode(token, profile, LocalKeys(), issuer=issuer, **options)
    except jose.InvalidToken as exc:
        return str(exc)
    return None


def _only(**rule: Any) -> Profile:
    return dataclasses.replace(SIGNATURE_ONLY, **rule)


def _profile(header: dict[str, Any]) -> Profile | None:
    typ = str(header.get("typ", "")).lower()
    return next((p for p in (ACCESS_TOKEN, ID_TOKEN) if typ in p.typ), None)


def _expected_audiences(claims: dict[str, Any], is_access: bool) -> list[str]:
    """Access tokens: the client's audiences (or the default); ID tokens: a registered client_id."""
    Application = get_application_model()
    if is_access:
        app = Application.objects.filter(client_id=str(claims.get("client_id", ""))).first()
        audiences = list(profile_for(app).audiences) if app is not None else []
        return audiences or oidc_settings.default_audience
    named = audience_list(claims)
    return list(Application.objects.filter(client_id__in=named).values_list("client_id", flat=True))


def _stored(token: str, claims: dict[str, Any], is_access: bool) -> Check:
    """Revocation: DOT deletes the row of a revoked (or cleaned-up) token (RFC 7009 §2.1)."""
    if is_access:
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = get_access_token_model().objects.filter(token_checksum=checksum).exists()
        return Check(
            "revoked", found, "token row present" if found else "no AccessToken row: revoked or removed"
        )
    jti = claims.get("jti")
    try:
        found = bool(jti) and get_id_token_model().objects.filter(jti=jti).exists()
    except ValidationError:  # a jti that is not a UUID cannot be one of ours
        found = False
    return Check("revoked", found, "IDToken row present" if found else "no IDToken row: revoked or removed")


def _key_info(header: dict[str, Any]) -> tuple[dict[str, Any] | None, Check]:
    kid = header.get("kid")
    row = SigningKey.objects.filter(kid=kid).first() if isinstance(kid, str) and kid else None
    if row is None:
        return None, Check("key", False, "no key of this site has this kid")
    published = kid in keyring().keys
    info = {"kid": row.kid, "algorithm": row.algorithm, "state": row.state, "published": published}
    detail = f"{row.algorithm} key, {row.state}{'' if published else ', not published'}"
    return info, Check("key", published, detail)


def _as_date(value: float) -> str:
    """A NumericDate as ISO 8601; values beyond what a datetime holds (year 10000, 1e20) say so."""
    try:
        return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):
        return f"{value} (out of range)"


def inspect_token(token: str) -> dict[str, Any]:
    """Everything the inspector shows about ``token``; raises nothing."""
    try:
        unverified = jose.parse(token, max_size=oidc_settings.MAX_TOKEN_SIZE)
        claims = unverified.claims()
    except jose.InvalidToken as exc:
        return {"checks": [Check("format", False, str(exc))], "valid": False, "reason": str(exc)}
    header = unverified.header
    profile = _profile(header)
    kind = profile.name if profile else "unknown"
    is_access = profile is ACCESS_TOKEN
    key, key_check = _key_info(header)
    checks = [Check("format", True, f"signed JWT, {header['alg']}"), key_check]

    signature_error = _decode_error(token)
    checks.append(Check("signature", signature_error is None, signature_error or "valid"))
    audiences = _expected_audiences(claims, is_access)
    now = time.time
    if signature_error is None:
        typ_error = (
            _decode_error(token, _only(typ=profile.typ)) if profile else "typ is neither at+jwt nor JWT"
        )
        iss_error = _decode_error(token, issuer=oidc_settings.ISSUER)
        aud_error = _decode_error(token, audience=audiences) if audiences else "no audience this site accepts"
        # decode checks exp before nbf/iat: exp failed when switching it on changes the outcome.
        times_error = _decode_error(token, now=now)
        exp_error = _decode_error(token, _only(check_exp=True, required=("exp",)), now=now)
        exp_failed = exp_error is not None and exp_error != times_error
        checks += [
            Check("typ", typ_error is None, typ_error or kind),
            Check("iss", iss_error is None, iss_error or f"is {oidc_settings.ISSUER}"),
            Check("aud", aud_error is None, aud_error or f"names {', '.join(audiences)}"),
            Check("exp", not exp_failed, exp_error if exp_failed else "not expired"),
            Check("nbf / iat", times_error is None, times_error or "not in the future"),
        ]
    else:
        checks += [
            Check(name, None, "not checked: signature") for name in ("typ", "iss", "aud", "exp", "nbf / iat")
        ]
    checks.append(_stored(token, claims, is_access))

    verdict_error = _decode_error(
        token,
        profile or _only(typ=frozenset({"-"})),
        issuer=oidc_settings.ISSUER,
        audience=audiences or ["-"],
        now=now,
    )
    reason = verdict_error or next((c.detail for c in checks if c.ok is False), None)
    return {
        "kind": kind,
        "header": json.dumps(header, indent=2, sort_keys=True),
        "claims": json.dumps(claims, indent=2, sort_keys=True),
        "times": [
            (name, _as_date(claims[name]))
            for name in TIME_CLAIMS
            if isinstance(claims.get(name), int | float) and not isinstance(claims.get(name), bool)
        ],
        "key": key,
        "checks": checks,
        "valid": reason is None,
        "reason": reason,
    }


@sensitive_post_parameters("token")
def inspect_view(request: HttpRequest, model_admin: Any) -> HttpResponse:
    """The admin page (wrapped by ``admin_site.admin_view``: staff only, CSRF, never cached)."""
    result = None
    if request.method == "POST":
        form = InspectForm(request.POST)
        if form.is_valid():
            result = inspect_token(form.cleaned_data["token"])
        # Never echo the token back: the next paste starts from an empty field.
        form = InspectForm()
    else:
        form = InspectForm()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "JWT inspector",
        "opts": model_admin.model._meta,
        "form": form,
        "result": result,
    }
    return TemplateResponse(request, "admin/oidc_provider/inspect.html", context)
