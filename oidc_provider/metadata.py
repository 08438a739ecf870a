"""What the discovery documents advertise, computed from what the provider really does.

Both documents (OIDC Discovery §3 and RFC 8414 §2) read these functions, so they cannot
disagree with each other or with the endpoints.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.settings import oauth2_settings

from .claims import SUPPORTED_CLAIMS
from .conf import oidc_settings
from .keys import keyring
from .models import ClientProfile

#: Claims an ID token may carry besides the user's (OIDC Discovery §3 claims_supported).
ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "c_hash")
ID_TOKEN_ALGORITHMS = frozenset(alg for alg, _ in ClientProfile.ID_TOKEN_ALGORITHMS)
#: Granted at the authorization endpoint, not the token endpoint (RFC 6749 §4.2).
IMPLICIT = "implicit"


def signing_algorithms() -> list[str]:
    """ID-token algorithms that work now: an active key this site also accepts, and HS256
    only when a client is configured for it (it signs with that client's secret)."""
    usable = set(keyring().active) & set(oidc_settings.ALLOWED_ALGORITHMS) & ID_TOKEN_ALGORITHMS
    algorithms = sorted(usable)
    # A hashed secret cannot sign (client_auth.hmac_secret): such a client does not count.
    hs256 = ClientProfile.objects.filter(id_token_algorithm="HS256", application__hash_client_secret=False)
    if hs256.exists():
        algorithms.append("HS256")
    return algorithms


def grant_types(token_endpoint: Any) -> list[str]:
    """DOT's advertised grant types that the token endpoint (an oauthlib server) accepts,
    without those DOT's RFC 9700 gates switched off; implicit when DOT answers it."""
    accepted = set(token_endpoint.grant_types)
    gated = {
        IMPLICIT: oauth2_settings.COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT,
        "password": oauth2_settings.COMPLIANT_BCP_RFC9700_PASSWORD_GRANT,
    }
    return [
        grant
        for grant in oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED
        if (grant in accepted or grant == IMPLICIT) and not gated.get(grant)
    ]


def user_claims() -> list[str]:
    """Claims the configured USERINFO_CLAIMS_PROVIDER can return, plus ``sub``.

    A provider declares them in a ``claims_supported`` attribute; one that does not is taken
    to answer every standard claim (OIDC Core §5.1).
    """
    provider = oidc_settings.USERINFO_CLAIMS_PROVIDER
    declared = getattr(provider, "claims_supported", None)
    claims = SUPPORTED_CLAIMS if declared is None else [c for c in declared if c in SUPPORTED_CLAIMS]
    return sorted({"sub", *claims})


def claims_supported() -> list[str]:
    return sorted({*user_claims(), *ID_TOKEN_CLAIMS})
