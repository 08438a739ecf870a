from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oidc_provider.urls")),
    path("", include("oidc_provider.metadata_urls")),  # RFC 8414 §3.1
    path("api/", include("example_project.demo_api.urls")),
    path("rp/", include("example_project.rp.urls")),
]
