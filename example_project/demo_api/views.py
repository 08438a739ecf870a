"""A small API protected by JWT access tokens from this provider, validated without a query."""

from rest_framework.response import Response
from rest_framework.views import APIView

from oidc_provider.contrib.rest_framework.permissions import HasScope


class MeView(APIView):
    """Who the token speaks for (loads the user row: the only query of this view)."""

    def get(self, request):
        token = request.auth
        return Response(
            {
                "username": request.user.get_username(),
                "client_id": token.client_id,
                "scope": token.scope,
            }
        )


class OrdersView(APIView):
    """Needs the read scope; a token without it gets 403 insufficient_scope."""

    permission_classes = [HasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"orders": [{"id": 1, "item": "coffee"}, {"id": 2, "item": "tea"}]})
