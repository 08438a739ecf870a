"""Test-only django-ninja API beside the DRF test views, so one test can call both."""

from django.urls import path
from ninja import NinjaAPI

from oidc_provider.contrib.ninja import JWTAccessTokenBearer, add_error_handlers, require_scopes

from .drf_urls import urlpatterns as drf_urlpatterns

api = add_error_handlers(NinjaAPI(urls_namespace="tests_ninja", docs_url=None))


@api.get("/token", auth=JWTAccessTokenBearer())
def token(request):
    return {"client_id": request.auth.client_id, "scope": request.auth.scope, "sub": request.user.sub}


@api.get("/user", auth=JWTAccessTokenBearer())
def user(request):
    user = request.user
    return {"username": user.get_username(), "type": user.__class__.__name__, "pk": user.pk}


@api.get("/scoped", auth=JWTAccessTokenBearer(scopes=["read"]))
def scoped(request):
    return {"ok": True}


@api.post("/write", auth=JWTAccessTokenBearer())
def write(request):
    require_scopes(request, "write")
    return {"ok": "write"}


urlpatterns = [*drf_urlpatterns, path("n/", api.urls)]
