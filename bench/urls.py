from django.urls import include, path

from . import views

urlpatterns = [
    path("o/", include("oidc_provider.urls")),
    path("dot/", include("oauth2_provider.urls")),  # DOT as shipped: the token endpoint baseline
    path("api/none", views.NoAuthenticationView.as_view()),
    path("api/dot", views.DOTOpaqueView.as_view()),
    path("api/jwt", views.JWTView.as_view()),
]
