"""The DRF and ninja test APIs with the RFC 9728 document mounted at the site root."""

from django.http import HttpResponse
from django.urls import include, path
from oauth2_provider.views.generic import ProtectedResourceView

from oidc_provider.resource_metadata import ResourceMetadataMixin

from .ninja_urls import urlpatterns as api_urlpatterns


class DOTProtectedView(ResourceMetadataMixin, ProtectedResourceView):
    def get(self, request):
        return HttpResponse("ok")


urlpatterns = [
    *api_urlpatterns,
    path("d/protected", DOTProtectedView.as_view()),
    path("", include("oidc_provider.resource_metadata")),
]
