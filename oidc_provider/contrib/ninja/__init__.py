"""django-ninja support: JWT access-token authentication, scope checks and RFC 6750 errors.

Needs the ``ninja`` extra (``pip install dot-oidc-jwt[ninja]``); the rest of the package
never imports django-ninja. Validation is ``oidc_provider.resource_server``'s, shared with
``contrib.rest_framework``, so both accept the same tokens under the same settings.
"""

from .errors import InsufficientScope, InvalidBearerToken, add_error_handlers
from .security import JWTAccessTokenBearer, require_scopes

__all__ = [
    "InsufficientScope",
    "InvalidBearerToken",
    "JWTAccessTokenBearer",
    "add_error_handlers",
    "require_scopes",
]
