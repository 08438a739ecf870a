"""RFC 8414 §3.1 metadata URL of an issuer with a path, mounted at the site root.

For the issuer ``https://id.example.com/o`` the metadata lives at
``https://id.example.com/.well-known/oauth-authorization-server/o``, outside ``o/``::

    path("", include("oidc_provider.metadata_urls")),

``o/.well-known/oauth-authorization-server`` (in ``oidc_provider.urls``) keeps working.
"""

from django.urls import path

from . import views

urlpatterns = [
    path(
        ".well-known/oauth-authorization-server/<path:issuer_path>",
        views.issuer_metadata,
        name="oauth-server-metadata-rfc8414",
    ),
]
