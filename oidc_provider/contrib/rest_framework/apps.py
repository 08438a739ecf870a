from django.apps import AppConfig


class ResourceServerConfig(AppConfig):
    """Optional: install it (no models) to get the resource-server system checks."""

    name = "oidc_provider.contrib.rest_framework"
    label = "oidc_provider_rest_framework"
    verbose_name = "OpenID Connect resource server (DRF)"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
