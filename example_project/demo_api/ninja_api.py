"""The same API through django-ninja: one endpoint, accepting the same tokens as the DRF views."""

from ninja import NinjaAPI

from oidc_provider.contrib.ninja import JWTAccessTokenBearer, add_error_handlers

# add_error_handlers: 401/403 answers carry the RFC 6750 WWW-Authenticate challenge.
api = add_error_handlers(NinjaAPI(urls_namespace="demo_ninja", docs_url=None, title="Demo API (ninja)"))


@api.get("/orders", auth=JWTAccessTokenBearer(scopes=["read"]))
def orders(request):
    """Needs the read scope, like the DRF OrdersView; request.auth is the validated token."""
    return {
        "orders": [{"id": 1, "item": "coffee"}, {"id": 2, "item": "tea"}],
        "client_id": request.auth.client_id,
    }
