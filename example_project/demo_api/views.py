"""A small API protected by access tokens from this provider."""

from oauth2_provider.contrib.rest_framework import TokenHasScope
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    """Who the token speaks for."""

    def get(self, request):
        token = request.auth
        return Response(
            {
                "username": request.user.get_username(),
                "client_id": getattr(getattr(token, "application", None), "client_id", None),
                "scope": getattr(token, "scope", ""),
            }
        )


class OrdersView(APIView):
    """Needs the read scope."""

    permission_classes = [TokenHasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"orders": [{"id": 1, "item": "coffee"}, {"id": 2, "item": "tea"}]})
