"""The API views of scenarios 1 and 6: the same tiny view behind each authentication class."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from oidc_provider.contrib.rest_framework.authentication import JWTAccessTokenAuthentication


class NoAuthenticationView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        request.auth  # noqa: B018 - authenticate, do not touch the user row
        return Response({"ok": True})


class DOTOpaqueView(NoAuthenticationView):
    authentication_classes = [OAuth2Authentication]


class JWTView(NoAuthenticationView):
    authentication_classes = [JWTAccessTokenAuthentication]
