from django.apps import AppConfig
from django.db.models.signals import post_delete


class OIDCProviderConfig(AppConfig):
    name = "oidc_provider"
    verbose_name = "OpenID Connect provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps

        # Register system checks and the key and profile cache receivers.
        from . import checks, keys, profiles  # noqa: F401

        if not apps.is_installed("oauth2_provider"):
            return  # reported by check oidc_provider.E001; DOT's models cannot be imported
        from oauth2_provider.models import get_access_token_model

        from . import authn  # noqa: F401  (the login-time receiver)
        from .revocation import access_token_deleted

        post_delete.connect(
            access_token_deleted, sender=get_access_token_model(), dispatch_uid="oidc_provider.revocation"
        )
