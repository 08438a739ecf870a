from django.apps import AppConfig


class OIDCProviderConfig(AppConfig):
    name = "oidc_provider"
    verbose_name = "OpenID Connect provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register system checks, key-cache receivers and the login-time receiver.
        from . import authn, checks, keys  # noqa: F401
