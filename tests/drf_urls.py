"""Test-only API views exercising the DRF classes (the demo API lives in example_project)."""

from django.urls import path
from oauth2_provider.contrib.rest_framework import (
    TokenHasReadWriteScope,
    TokenHasScope,
    TokenMatchesOASRequirements,
)
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oidc_provider.contrib.rest_framework.permissions import HasReadWriteScope, HasScope

from .urls import urlpatterns as base_urlpatterns


class TokenView(APIView):
    """Uses only the token: no user row."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(
            {"client_id": request.auth.client_id, "scope": request.auth.scope, "sub": request.user.sub}
        )


class UserView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response({"username": user.get_username(), "type": user.__class__.__name__, "pk": user.pk})


class ScopedView(APIView):
    permission_classes = [HasScope]
    required_scopes = ["read"]

    def get(self, request):
        return Response({"ok": True})


class ReadWriteView(APIView):
    permission_classes = [HasReadWriteScope]

    def get(self, request):
        return Response({"ok": "read"})

    def post(self, request):
        return Response({"ok": "write"})


class DOTScopeView(ScopedView):
    permission_classes = [TokenHasScope]


class DOTReadWriteView(ReadWriteView):
    permission_classes = [TokenHasReadWriteScope]


class DOTAlternativesView(APIView):
    permission_classes = [TokenMatchesOASRequirements]
    required_alternate_scopes = {"GET": [["admin"], ["read", "profile"]]}

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    *base_urlpatterns,
    path("t/token", TokenView.as_view()),
    path("t/user", UserView.as_view()),
    path("t/scoped", ScopedView.as_view()),
    path("t/rw", ReadWriteView.as_view()),
    path("t/dot-scoped", DOTScopeView.as_view()),
    path("t/dot-rw", DOTReadWriteView.as_view()),
    path("t/dot-oas", DOTAlternativesView.as_view()),
]
