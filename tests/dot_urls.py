"""A site that mounts DOT's own URLs (check E060 must flag it)."""

from django.urls import include, path

urlpatterns = [path("o/", include("oauth2_provider.urls"))]
