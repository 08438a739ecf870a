from django.apps import AppConfig


class OIDCProviderConfig(AppConfig):
    name = "oidc_provider"
    verbose_name = "OpenID Connect provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, keys  # noqa: F401  (register system checks and key-cache receivers)
