"""Admin forms with validation messages for bad input; never a 500, never a half-saved key."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import django
from django import forms
from django.core.exceptions import ValidationError

from . import keys
from .client_auth import secret_is_recoverable
from .client_jwks import uri_allowed
from .jwk import InvalidJWK, import_jwk
from .logout_http import uri_allowed as logout_uri_allowed
from .models import ClientProfile, SigningKey

MIN_HMAC_SECRET_LENGTH = 32  # RFC 7518 §3.2: at least the 256-bit output of HS256

# URLField(assume_scheme=) exists from Django 5.0 (4.2 raises TypeError). On 4.2 a scheme-less
# value becomes http://..., which clean_client_jwks_uri then refuses with a message.
ASSUME_HTTPS = {"assume_scheme": "https"} if django.VERSION >= (5, 0) else {}


def validate_public_jwks(value: Any) -> dict[str, Any]:
    """A JWKS of public signature keys (RFC 7517 §5), each by the rules of ``jwk.import_jwk``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError("Not valid JSON.") from None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise ValidationError('A JWKS is a JSON object with a non-empty "keys" array.')
    for i, member in enumerate(value["keys"]):
        try:
            import_jwk(member)
        except InvalidJWK as exc:
            raise ValidationError(f"Key {i + 1}: {exc}; paste only the public signature keys.") from None
    return value


def _absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


class LinesField(forms.Field):
    """A list of strings edited as one per line (not a raw JSON ``[]`` box)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80, "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)  # a re-rendered JSON list after a failed save
            except ValueError:
                return value
        return "\n".join(str(v) for v in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


class JWKSWidget(forms.Textarea):
    """The client's JWKS as indented JSON, with the kids it holds listed under the box."""

    template_name = "oidc_provider/widgets/jwks.html"

    def __init__(self) -> None:
        super().__init__(attrs={"rows": 8, "cols": 80, "spellcheck": "false", "class": "vLargeTextField"})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dict):
            return json.dumps(value, indent=2)
        if value in (None, "null"):
            return None
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["kids"] = jwks_summary(value)
        return context


def jwks_summary(value: Any) -> list[str]:
    """'kid (kty, alg)' for each key of a JWKS value (dict or JSON); [] when it is not one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    members = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(members, list):
        return []
    summary = []
    for member in members:
        if isinstance(member, dict):
            details = ", ".join(str(member[k]) for k in ("kty", "crv", "alg") if member.get(k))
            summary.append(f"{member.get('kid', '(no kid)')} ({details})")
    return summary


class JWKSField(forms.Field):
    """A JWKS pasted as JSON: empty means none (None), not the string "null"."""

    widget = JWKSWidget

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if value is None or not str(value).strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ValidationError('Not valid JSON: paste the client\'s JWKS, {"keys": [...]}.') from None


class ClientProfileForm(forms.ModelForm):
    audiences = LinesField(
        label="Audiences",
        required=False,
        help_text="One absolute URI per line: the APIs (aud) this client's access tokens name. "
        "Empty: the site's DEFAULT_AUDIENCE.",
    )
    client_jwks = JWKSField(
        label="Client JWKS",
        required=False,
        help_text='For private_key_jwt: the client\'s public keys as a JWK Set, {"keys": [...]}.',
    )
    client_jwks_uri = forms.URLField(label="Client JWKS URI", required=False, max_length=2000, **ASSUME_HTTPS)
    backchannel_logout_uri = forms.URLField(
        label="Back-channel logout URI",
        required=False,
        max_length=2000,
        help_text="Receives a logout token (POST) when the user's session at this provider ends.",
        **ASSUME_HTTPS,
    )

    class Meta:
        model = ClientProfile
        fields = (
            "access_token_format",
            "store_access_tokens",
            "audiences",
            "access_token_lifetime",
            "id_token_lifetime",
            "refresh_token_lifetime",
            "id_token_algorithm",
            "token_endpoint_auth_method",
            "client_jwks",
            "client_jwks_uri",
            "allowed_scopes",
            "introspection_allowed",
            "backchannel_logout_uri",
            "backchannel_logout_session_required",
        )

    def clean_audiences(self) -> list[str]:
        value = self.cleaned_data.get("audiences") or []
        bad = [v for v in value if not _absolute_uri(v)]
        if bad:
            raise ValidationError(f"Not an absolute URI: {bad[0]}")
        return value

    def clean_client_jwks(self) -> dict[str, Any] | None:
        value = self.cleaned_data.get("client_jwks")
        return validate_public_jwks(value) if value else None

    def clean_backchannel_logout_uri(self) -> str:
        value = self.cleaned_data.get("backchannel_logout_uri") or ""
        if value and not logout_uri_allowed(value):
            # Back-Channel Logout §2.2: absolute, no fragment; https like every URI we call.
            raise ValidationError(
                "The back-channel logout URI must be an https URL without a fragment "
                "(http is accepted only with DEBUG)."
            )
        return value

    def clean_client_jwks_uri(self) -> str:
        value = self.cleaned_data.get("client_jwks_uri") or ""
        if value and not uri_allowed(value):
            raise ValidationError("The JWKS URI must use https (http is accepted only with DEBUG).")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        method = data.get("token_endpoint_auth_method")
        if data.get("client_jwks") and data.get("client_jwks_uri"):
            # OIDC Dynamic Client Registration §2: jwks and jwks_uri are never both used.
            self.add_error("client_jwks_uri", "Give either the client's JWKS or a JWKS URI, not both.")
        if method == ClientProfile.AuthMethod.PRIVATE_KEY_JWT and not (
            data.get("client_jwks") or data.get("client_jwks_uri")
        ):
            self.add_error("client_jwks", "private_key_jwt needs the client's public keys or a JWKS URI.")
        if method == ClientProfile.AuthMethod.SECRET_JWT:
            self._check_hmac_secret(
                "token_endpoint_auth_method", "client_secret_jwt", "or use private_key_jwt"
            )
        if data.get("id_token_algorithm") == "HS256":
            self._check_hmac_secret(
                "id_token_algorithm", "HS256 for ID tokens", "or choose a signing key's algorithm"
            )
        return data

    def _check_hmac_secret(self, field: str, purpose: str, alternative: str) -> None:
        """HMAC keys are the secret itself (DOT hashes it by default), >= 32 bytes (RFC 7518 §3.2)."""
        # As an inline, the formset's foreign-key field cleans to the parent being edited,
        # with the secret and hash_client_secret just submitted (not yet saved).
        application = self.cleaned_data.get("application") or getattr(self.instance, "application", None)
        if application is None:
            return
        if not secret_is_recoverable(application):
            self.add_error(
                field,
                f"{purpose} needs the client secret stored unhashed: untick 'Hash client secret' "
                f"and enter a new secret (a hashed secret cannot be recovered), {alternative}.",
            )
        elif len(application.client_secret.encode()) < MIN_HMAC_SECRET_LENGTH:
            self.add_error(
                field, f"{purpose} needs a client secret of at least {MIN_HMAC_SECRET_LENGTH} bytes."
            )


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders its value: a pasted private key is not sent back."""

    def format_value(self, value: Any) -> None:
        return None


class SigningKeyCreateForm(forms.ModelForm):
    """Generate a key, or import an existing PEM private key."""

    private_key_pem = forms.CharField(
        label="Import PEM private key (optional)",
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 6, "autocomplete": "off"}),
        help_text="Leave empty to generate a new key. The key is encrypted at rest and never shown again.",
    )

    class Meta:
        model = SigningKey
        fields = ("algorithm", "state")

    def clean_state(self) -> str:
        state = self.cleaned_data["state"]
        if state not in (SigningKey.State.NEXT, SigningKey.State.ACTIVE):
            raise ValidationError("A new key starts as next or active.")
        return state

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        alg, pem = data.get("algorithm"), data.get("private_key_pem")
        if alg and pem:
            try:
                data["private_key"] = keys.load_private_pem(pem, alg)
            except keys.KeyOperationError as exc:
                self.add_error("private_key_pem", str(exc))
        state = data.get("state")
        if alg and state and SigningKey.objects.filter(algorithm=alg, state=state).exists():
            self.add_error("state", f"There is already a {state} {alg} key; rotate instead.")
        return data
