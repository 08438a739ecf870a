from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save


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
        from oauth2_provider.models import get_access_token_model, get_application_model

        from . import authn, sessions  # noqa: F401  (the login-time and session receivers)
        from .client_secrets import validate_client_secret
        from .revocation import access_token_deleted

        # End the user's provider sessions when they are deactivated or change password.
        user_model = apps.get_model(settings.AUTH_USER_MODEL)
        pre_save.connect(sessions.user_pre_save, sender=user_model, dispatch_uid="oidc_provider.sessions")
        post_save.connect(sessions.user_post_save, sender=user_model, dispatch_uid="oidc_provider.sessions")

        post_delete.connect(
            access_token_deleted, sender=get_access_token_model(), dispatch_uid="oidc_provider.revocation"
        )
        # Model validation (full_clean, ModelForms, the admin) of whatever Application model the
        # site uses: with the fast hasher, weak secrets are refused with a clear message.
        field = get_application_model()._meta.get_field("client_secret")
        if validate_client_secret not in field.validators:
            field.validators.append(validate_client_secret)
