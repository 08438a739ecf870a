"""What a validated access token gives a view: ``request.auth`` and ``request.user``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.functional import SimpleLazyObject


class AccessTokenClaims:
    """``request.auth``: a validated RFC 9068 token, duck-typed like DOT's AccessToken.

    DOT's ``TokenHasScope``, ``TokenHasReadWriteScope`` and ``TokenMatchesOASRequirements`` only
    call ``scope``, ``is_valid``, ``allow_scopes`` and ``is_expired``, so they work unchanged.
    """

    def __init__(self, token: str, header: dict[str, Any], claims: dict[str, Any], leeway: int = 0) -> None:
        self.token = token
        self.header = header
        self.claims = claims
        self.leeway = leeway

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<AccessTokenClaims client_id={self.client_id!r} jti={self.jti!r}>"

    @property
    def scope(self) -> str:
        return self.claims.get("scope", "")

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    @property
    def client_id(self) -> str | None:
        return self.claims.get("client_id")

    @property
    def sub(self) -> str:
        return self.claims["sub"]

    @property
    def jti(self) -> str | None:
        return self.claims.get("jti")

    @property
    def audience(self) -> list[str]:
        aud = self.claims.get("aud")
        return [aud] if isinstance(aud, str) else list(aud or [])

    @property
    def is_client_token(self) -> bool:
        """RFC 9068 §2.2: with no resource owner (client_credentials), sub is the client_id."""
        return self.claims.get("sub") == self.claims.get("client_id")

    def is_expired(self) -> bool:
        exp = self.claims.get("exp")
        return exp is not None and exp <= time.time() - self.leeway

    def allow_scopes(self, scopes: Iterable[str] | None) -> bool:
        return not scopes or set(scopes) <= self.scopes

    def is_valid(self, scopes: Iterable[str] | None = None) -> bool:
        return not self.is_expired() and self.allow_scopes(scopes)


class TokenUser:
    """A user known only from the token (no database row): ``USER_MODE = "stateless"``, and
    client_credentials tokens in every mode. Authenticated, never staff or superuser."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: AccessTokenClaims) -> None:
        self.token = token
        self.sub = token.sub
        self.client_id = token.client_id
        self.is_client = token.is_client_token
        # A client is not a user: no pk, so code that looks up rows by it finds nothing.
        self.pk = self.id = None if self.is_client else self.sub
        self.username = self.sub

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"<TokenUser sub={self.sub!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenUser) and other.sub == self.sub

    def __hash__(self) -> int:
        return hash(self.sub)

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Iterable[str], obj: Any = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    @property
    def groups(self) -> Any:
        from django.contrib.auth.models import Group

        return Group.objects.none()

    @property
    def user_permissions(self) -> Any:
        from django.contrib.auth.models import Permission

        return Permission.objects.none()


class LazyUser(SimpleLazyObject):
    """``request.user`` for ``USER_MODE = "lazy"``: the user row, loaded only when a view uses it.

    ``is_authenticated``/``is_anonymous``/truthiness are answered without loading, so
    ``IsAuthenticated`` costs no query; the token already proves an authenticated subject.
    """

    is_authenticated = True
    is_anonymous = False

    def __init__(self, func: Callable[[], Any], sub: str) -> None:
        super().__init__(func)
        self.__dict__["sub"] = sub

    def __bool__(self) -> bool:
        return True
