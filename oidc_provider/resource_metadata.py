"""RFC 9728 Protected Resource Metadata for an API protected by our DRF or ninja classes.

Built on DOT's views: the document is DOT's ``OAuthProtectedResourceMetadataView`` filled
from ``OIDC_PROVIDER["RESOURCE_SERVER"]``, and ``ResourceMetadataMixin`` points DOT's own
``ProtectedResourceMetadataMixin`` challenges at it. Mount at the site root (RFC 9728 §3.1
puts the document between host and path of the resource identifier)::

    path("", include("oidc_provider.resource_metadata")),
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from oauth2_provider.views.metadata import OAuthProtectedResourceMetadataView
from oauth2_provider.views.mixins import ProtectedResourceMetadataMixin

from .contrib.rest_framework.conf import resource_settings
from .resource_server import METADATA_URL_NAME, resource_identifier, resource_metadata_url, well_known_url


class ProtectedResourceMetadataView(OAuthProtectedResourceMetadataView):
    """``/.well-known/oauth-protected-resource[/path]`` for ``RESOURCE_SERVER["RESOURCE"]``.

    RFC 9728 §3.3: the ``resource`` of the document must be the identifier its URL was
    formed from, so any other path under the well-known prefix is a 404.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        resource = resource_identifier()
        if not resource or urlsplit(well_known_url(resource)).path != request.path.rstrip("/"):
            raise Http404("No protected resource is published at this address.")
        return super().get(request, *args, **kwargs)

    def get_resource(self, request: HttpRequest) -> str | None:
        return resource_identifier()

    def get_authorization_servers(self, request: HttpRequest) -> list[str]:
        """RFC 9728 §2: the issuer whose tokens this API accepts."""
        issuer = resource_settings.issuer
        return [issuer] if issuer else super().get_authorization_servers(request)

    def get_scopes_supported(self) -> list[str]:
        scopes = resource_settings.SCOPES_SUPPORTED
        return list(scopes) if scopes is not None else super().get_scopes_supported()

    def get_bearer_methods_supported(self) -> list[str]:
        # Our classes read the Authorization header only (RFC 6750 §2.1), never body or query.
        # resource_signing_alg_values_supported is left out: this API does not sign responses.
        return ["header"]


class ResourceMetadataMixin(ProtectedResourceMetadataMixin):
    """DOT's RFC 9728 mixin (401/403 with a Bearer challenge for DOT's protected views)
    advertising this API's document instead of DOT's root route."""

    def get_resource_metadata_url(self, request: HttpRequest) -> str | None:
        return self.resource_metadata_url or resource_metadata_url()


view = ProtectedResourceMetadataView.as_view()
urlpatterns = [
    path(".well-known/oauth-protected-resource", view, name=METADATA_URL_NAME),
    path(".well-known/oauth-protected-resource/<path:resource_path>", view, name=f"{METADATA_URL_NAME}-path"),
]
