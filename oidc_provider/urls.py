"""DOT's URLs with our authorization, logout, JWKS, discovery and introspection views in place of DOT's.

Mount instead of DOT's: ``path("o/", include("oidc_provider.urls"))``. The namespace
stays ``oauth2_provider`` so DOT's views and reverse() calls keep working.
"""

from django.urls import path, re_path
from oauth2_provider import urls as dot_urls

from . import views

app_name = "oauth2_provider"

_ours = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views.DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        views.ServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks-info"),
    path("introspect/", views.IntrospectView.as_view(), name="introspect"),
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("logout/", views.LogoutView.as_view(), name="rp-initiated-logout"),
]
_replaced = {p.name for p in _ours}

urlpatterns = _ours + [p for p in dot_urls.urlpatterns if getattr(p, "name", None) not in _replaced]
