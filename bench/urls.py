from django.urls import include, path

urlpatterns = [path("o/", include("oidc_provider.urls"))]
