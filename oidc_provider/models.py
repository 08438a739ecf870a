"""Signing keys kept in the database, and per-client settings beside DOT's Application."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class SigningKey(models.Model):
    """A key pair that signs tokens; its public half is published in the JWKS.

    Lifecycle: next (published, not signing) -> active (signs) -> retired (published
    until every token it signed has expired) -> removed. ``revoked`` removes it at once.
    """

    class State(models.TextChoices):
        NEXT = "next", _("next (published, not yet signing)")
        ACTIVE = "active", _("active (signing)")
        RETIRED = "retired", _("retired (published until its tokens expire)")
        REVOKED = "revoked", _("revoked (compromised)")

    ALGORITHM_CHOICES = [
        ("RS256", "RS256 (RSA PKCS#1 v1.5, SHA-256)"),
        ("PS256", "PS256 (RSA-PSS, SHA-256)"),
        ("ES256", "ES256 (ECDSA P-256, SHA-256)"),
        ("ES384", "ES384 (ECDSA P-384, SHA-384)"),
        ("EdDSA", "EdDSA (Ed25519)"),
    ]

    kid = models.CharField(_("key id"), max_length=64, unique=True, editable=False)
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=ALGORITHM_CHOICES)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.NEXT)
    public_jwk = models.JSONField(_("public JWK"), editable=False)
    private_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        _("published until"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("A retired key leaves the JWKS after this instant and may then be pruned."),
    )

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["algorithm", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"], condition=Q(state="active"), name="oidc_one_active_key_per_alg"
            ),
            models.UniqueConstraint(
                fields=["algorithm"], condition=Q(state="next"), name="oidc_one_next_key_per_alg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.kid} ({self.state})"


class ClientProfile(models.Model):
    """OIDC/JWT settings of one DOT Application, created on demand with defaults."""

    class TokenFormat(models.TextChoices):
        JWT = "jwt", _("JWT (RFC 9068)")
        OPAQUE = "opaque", _("Opaque (django-oauth-toolkit)")

    class AuthMethod(models.TextChoices):
        SECRET_BASIC = "client_secret_basic", "client_secret_basic"
        SECRET_POST = "client_secret_post", "client_secret_post"
        SECRET_JWT = "client_secret_jwt", "client_secret_jwt (RFC 7523)"
        PRIVATE_KEY_JWT = "private_key_jwt", "private_key_jwt (RFC 7523)"
        NONE = "none", _("none (public client)")

    ID_TOKEN_ALGORITHMS = [
        ("RS256", "RS256"),
        ("PS256", "PS256"),
        ("ES256", "ES256"),
        ("ES384", "ES384"),
        ("EdDSA", "EdDSA"),
        ("HS256", "HS256 (client secret)"),
    ]

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="oidc_profile"
    )
    access_token_format = models.CharField(
        _("access token format"), max_length=8, choices=TokenFormat.choices, default=TokenFormat.JWT
    )
    store_access_tokens = models.BooleanField(
        _("store access tokens"),
        default=True,
        help_text=_(
            "Off: client_credentials JWT access tokens are not stored (no AccessToken row, no "
            "database write per token). Introspection checks the JWT itself, revocation records "
            "its jti, and the admin lists no tokens of this client."
        ),
    )
    audiences = models.JSONField(
        _("audiences"),
        default=list,
        blank=True,
        help_text=_("Resource identifiers (absolute URIs) for the aud claim; empty uses the site default."),
    )
    access_token_lifetime = models.PositiveIntegerField(
        _("access token lifetime (s)"), null=True, blank=True, help_text=_("Empty uses the site default.")
    )
    id_token_lifetime = models.PositiveIntegerField(
        _("ID token lifetime (s)"), null=True, blank=True, help_text=_("Empty uses the site default.")
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        _("refresh token lifetime (s)"),
        null=True,
        blank=True,
        help_text=_("Maximum age of a refresh token; empty follows DOT's REFRESH_TOKEN_EXPIRE_SECONDS."),
    )
    id_token_algorithm = models.CharField(
        _("ID token algorithm"), max_length=8, choices=ID_TOKEN_ALGORITHMS, default="RS256"
    )
    token_endpoint_auth_method = models.CharField(
        _("token endpoint auth method"),
        max_length=32,
        choices=AuthMethod.choices,
        blank=True,
        help_text=_("Empty: client_secret_basic or client_secret_post, as DOT accepts them."),
    )
    client_jwks = models.JSONField(
        _("client JWKS"), null=True, blank=True, help_text=_("Public keys for private_key_jwt.")
    )
    client_jwks_uri = models.URLField(_("client JWKS URI"), blank=True, max_length=2000)
    allowed_scopes = models.CharField(
        _("allowed scopes"),
        max_length=2000,
        blank=True,
        help_text=_("Space-separated; empty allows every scope of the site."),
    )
    introspection_allowed = models.BooleanField(
        _("may introspect tokens"),
        default=False,
        help_text=_(
            "RFC 7662: a confidential client (a resource server) that may ask whether any token is "
            "active. Public clients never may."
        ),
    )
    # OpenID Connect Back-Channel Logout 1.0 §2.2 client metadata.
    backchannel_logout_uri = models.URLField(
        _("back-channel logout URI"),
        blank=True,
        max_length=2000,
        help_text=_("Receives a logout token (POST) when the user's session at this provider ends."),
    )
    backchannel_logout_session_required = models.BooleanField(
        _("back-channel logout session required"),
        default=False,
        help_text=_("The client needs sid in ID tokens and logout tokens."),
    )

    class Meta:
        verbose_name = _("OIDC client settings")
        verbose_name_plural = _("OIDC client settings")

    def __str__(self) -> str:
        return f"OIDC settings of {self.application}"

    @property
    def scope_list(self) -> list[str]:
        return self.allowed_scopes.split()


class AuthenticationContext(models.Model):
    """How and when the user authenticated for one authorization (OIDC Core §2 auth_time).

    Created with the authorization code, then bound to the access token and the refresh
    token family it produced, so refreshed ID tokens keep auth_time (OIDC Core §12.2) and
    userinfo honours the ``claims`` request parameter (§5.5).
    """

    code_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the code, never the code
    auth_time = models.DateTimeField(null=True)
    claims = models.JSONField(default=dict, blank=True)
    token_family = models.UUIDField(null=True, db_index=True)
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    #: The OP session (``ProviderSession.sid``) the authorization was made in, and its client:
    #: which relying parties to notify when that session ends (Back-Channel Logout §2.5).
    sid = models.CharField(max_length=64, blank=True, db_index=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("authentication context")

    def __str__(self) -> str:
        return f"authentication context {self.pk}"


class DataVersion(models.Model):
    """A counter per kind of row that processes keep in memory (signing keys, client profiles).

    Bumped in the same transaction as every change, so a process that reads it (at most every
    ``KEY_CACHE_CHECK_INTERVAL``) learns of a change with any cache backend, or none.
    """

    name = models.CharField(max_length=64, primary_key=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("data version")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class UsedJti(models.Model):
    """A value accepted once (client-assertion jti, later DPoP proof jti) until it expires.

    The unique constraint decides, so two processes racing on the same value cannot both win.
    ``key`` is a SHA-256 digest, so any value (and any length) fits and none is stored.
    """

    namespace = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("used jti")
        constraints = [models.UniqueConstraint(fields=["namespace", "key"], name="oidc_used_jti_unique")]

    def __str__(self) -> str:
        return f"{self.namespace}:{self.key[:12]}"


class RevokedToken(models.Model):
    """The jti of a revoked JWT access token, kept until the token would have expired anyway."""

    jti = models.CharField(max_length=255, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("revoked token")

    def __str__(self) -> str:
        return self.jti


class ProviderSession(models.Model):
    """One browser sign-in at this provider: its ``sid`` (Back-Channel Logout §2.1, OIDC Session).

    Created at login, ended at logout (or by an admin, a deactivation, a password change);
    the relying parties that received tokens in it are found through AuthenticationContext.sid.
    """

    sid = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_sessions")
    # The Django session it lives in, so an admin can end it; never shown.
    session_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, db_index=True)
    end_reason = models.CharField(_("ended by"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("provider session")
        verbose_name_plural = _("provider sessions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.sid[:8]}... of {self.user}"


class LogoutDelivery(models.Model):
    """One logout notice to one relying party's back-channel logout URI, and what became of it.

    The logout token is built afresh for each attempt (its exp is short) and never stored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed (gave up)")

    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    uri = models.URLField(max_length=2000)
    sid = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("back-channel logout delivery")
        verbose_name_plural = _("back-channel logout deliveries")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"logout of {self.sid[:8] or self.subject} to {self.application} ({self.status})"
