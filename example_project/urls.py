from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("o/", include("oidc_provider.urls")),
    path("", include("oidc_provider.metadata_urls")),  # RFC 8414 §3.1
    path("api/", include("example_project.demo_api.urls")),
    path("rp/", include("example_project.rp.urls")),
    # RFC 9728: /.well-known/oauth-protected-resource/api describes the demo API, and its
    # 401 answers point there (resource_metadata).
    path("", include("oidc_provider.resource_metadata")),
]
