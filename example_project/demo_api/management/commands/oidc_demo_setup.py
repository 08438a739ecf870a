"""Idempotently create the demo user, clients and signing keys, and print how to use them."""

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from oauth2_provider.models import get_application_model

from oidc_provider import keys
from oidc_provider.conf import oidc_settings
from oidc_provider.models import ClientProfile
from oidc_provider.profiles import profile_for

DEMO_USER = ("demo", "demo-password-123")
ADMIN_USER = ("admin", "admin-password-123")
CONFIDENTIAL = ("demo-confidential", "demo-confidential-Zq8Rt3Wm6Yp1Kd4Hs7Vn2Bx5")
SECOND = ("demo-rp2", "demo-rp2-Pw4Nc7Hx2Qm9Ls5Tf8Kb3Jv6Gd")
PUBLIC = "demo-public"
SERVICE = ("demo-service", "demo-service-Jc5Fg8Lq2Tw7Np3Xr6Mh9Db4Kz")
DEFAULT_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")


def demo_origins() -> list[str]:
    """Where the demo relying party runs: the issuer's origin (OIDC_ISSUER may move it) and the defaults."""
    parts = urlsplit(oidc_settings.ISSUER or DEFAULT_ORIGINS[0])
    return list(dict.fromkeys([f"{parts.scheme}://{parts.netloc}", *DEFAULT_ORIGINS]))


class Command(BaseCommand):
    help = "Create (or refresh) the demo user, a confidential and a public PKCE client, and keys."

    def handle(self, *args, **options):
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username=DEMO_USER[0],
            defaults={"first_name": "Dee", "last_name": "Mo", "email": "demo@example.com"},
        )
        user.set_password(DEMO_USER[1])
        user.save()
        admin, _ = User.objects.get_or_create(
            username=ADMIN_USER[0], defaults={"is_staff": True, "is_superuser": True}
        )
        admin.set_password(ADMIN_USER[1])
        admin.save()

        Application = get_application_model()
        origins = demo_origins()
        redirect_uris = " ".join(f"{origin}/rp/callback" for origin in origins)
        common = {
            "redirect_uris": redirect_uris,
            "post_logout_redirect_uris": " ".join(f"{origin}/rp/" for origin in origins),
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": False,
        }
        confidential = Application.objects.filter(client_id=CONFIDENTIAL[0]).first()
        if confidential is None:
            confidential = Application(client_id=CONFIDENTIAL[0])
        for field, value in {**common, "name": "Demo confidential client"}.items():
            setattr(confidential, field, value)
        confidential.client_type = Application.CLIENT_CONFIDENTIAL
        confidential.client_secret = CONFIDENTIAL[1]
        confidential.hash_client_secret = True
        confidential.save()

        second = Application.objects.filter(client_id=SECOND[0]).first() or Application(client_id=SECOND[0])
        for field, value in {**common, "name": "Second demo client"}.items():
            setattr(second, field, value)
        second.redirect_uris = " ".join(f"{origin}/rp2/callback" for origin in origins)
        second.post_logout_redirect_uris = " ".join(f"{origin}/rp2/" for origin in origins)
        second.client_type = Application.CLIENT_CONFIDENTIAL
        second.client_secret = SECOND[1]
        second.hash_client_secret = True
        second.save()

        public, _ = Application.objects.update_or_create(
            client_id=PUBLIC,
            defaults={
                **common,
                "name": "Demo public PKCE client",
                "client_type": Application.CLIENT_PUBLIC,
                "client_secret": "",
            },
        )
        service = Application.objects.filter(client_id=SERVICE[0]).first() or Application(
            client_id=SERVICE[0]
        )
        service.name = "Demo service (client credentials)"
        service.client_type = Application.CLIENT_CONFIDENTIAL
        service.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
        service.client_secret = SERVICE[1]
        service.hash_client_secret = True
        service.save()

        for app in (confidential, second, public, service):
            profile = profile_for(app)
            profile.access_token_format = ClientProfile.TokenFormat.JWT
            profile.save()
        # Both demo RPs take back-channel logout, keyed by the provider's sid.
        for app, prefix in ((confidential, "rp"), (second, "rp2")):
            profile = profile_for(app)
            profile.backchannel_logout_uri = f"{origins[0]}/{prefix}/backchannel-logout"
            profile.backchannel_logout_session_required = True
            profile.save()

        for alg in ("RS256", "ES256"):
            keys.ensure_active_key(alg)

        issuer = oidc_settings.ISSUER
        self.stdout.write(
            self.style.SUCCESS("Demo ready.")
            + f"""
  Issuer / discovery:  {issuer}/.well-known/openid-configuration
  JWKS:                {issuer}/.well-known/jwks.json
  Demo user:           {DEMO_USER[0]} / {DEMO_USER[1]}
  Admin:               {origins[0]}/admin/  ({ADMIN_USER[0]} / {ADMIN_USER[1]})
  Confidential client: {CONFIDENTIAL[0]} / {CONFIDENTIAL[1]}
  Public PKCE client:  {PUBLIC}
  Relying parties:     {origins[0]}/rp/ and {origins[0]}/rp2/ ({SECOND[0]}; back-channel logout)
  Redirect URIs:       {redirect_uris}
  Service client:      {SERVICE[0]} / {SERVICE[1]}  (client_credentials)
  Try: curl -u {SERVICE[0]}:{SERVICE[1]} -d grant_type=client_credentials -d scope=read \\
         {issuer}/token/
"""
        )
