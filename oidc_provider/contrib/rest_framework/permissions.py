"""Scope permissions that answer RFC 6750 ``insufficient_scope`` (403 with a Bearer challenge).

DOT's ``TokenHasScope`` family also works with our ``request.auth`` but answers a bare 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .authentication import challenge
from .token import AccessTokenClaims


class InsufficientScope(PermissionDenied):
    """403 ``insufficient_scope`` (RFC 6750 §3.1) carrying the challenge DRF puts in WWW-Authenticate."""

    default_code = "insufficient_scope"
    default_detail = "The access token does not grant the scope this request needs."

    def __init__(self, scopes: Sequence[str]) -> None:
        super().__init__()
        self.required_scopes = list(scopes)
        self.auth_header = challenge("insufficient_scope", self.default_detail, " ".join(scopes))


class HasScope(BasePermission):
    """The token grants every scope in the view's ``required_scopes``.

    A request not authenticated by a JWT access token is denied; one whose token lacks a
    scope gets 403 ``insufficient_scope`` at once (it is raised, so combining this class with
    ``|`` does not fall through to the other operand for such tokens).
    """

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        try:
            return list(view.required_scopes)
        except AttributeError:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs `required_scopes` on {type(view).__name__}."
            ) from None

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, AccessTokenClaims):
            return False
        scopes = self.get_scopes(request, view)
        if not token.allow_scopes(scopes):
            raise InsufficientScope(scopes)
        return True


class HasReadWriteScope(HasScope):
    """``required_scopes`` (optional) plus ``read_scope`` for safe methods, else ``write_scope``."""

    read_scope = "read"
    write_scope = "write"

    def get_scopes(self, request: Request, view: Any) -> list[str]:
        scopes = list(getattr(view, "required_scopes", []))
        if request.method.upper() in SAFE_METHODS:
            return [*scopes, getattr(view, "read_scope", self.read_scope)]
        return [*scopes, getattr(view, "write_scope", self.write_scope)]
