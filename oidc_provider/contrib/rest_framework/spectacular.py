"""drf-spectacular: documents ``JWTAccessTokenAuthentication`` as an HTTP Bearer JWT scheme.

Imported by ``authentication`` only when drf-spectacular is installed (extra ``spectacular``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oidc_provider.contrib.rest_framework.authentication.JWTAccessTokenAuthentication"
    name = "jwtAccessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "RFC 9068 JWT access token from the OpenID provider.",
        }
