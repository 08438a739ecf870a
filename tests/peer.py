"""A second process for cross-process tests: reads commands on stdin, answers on stdout.

kids              -> the kids in this process's key ring
validate <token>  -> "ok <sub>" or "invalid <reason>"
claim <client_id> <jti> -> "accepted" or "replayed"
lifetime <client_id>    -> the client's access_token_lifetime as this process's profile cache has it
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from oidc_provider import jose  # noqa: E402
from oidc_provider.client_auth import ClientAuthError, _consume_jti  # noqa: E402
from oidc_provider.keys import keyring  # noqa: E402
from oidc_provider.profiles import profile_for  # noqa: E402
from oidc_provider.validation import decode_local  # noqa: E402


def main() -> None:
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "kids":
            answer = " ".join(sorted(keyring().keys))
        elif command == "validate":
            try:
                _, claims = decode_local(arg)
                answer = f"ok {claims['sub']}"
            except jose.InvalidToken as exc:
                answer = f"invalid {exc}"
        elif command == "claim":
            client_id, _, jti = arg.partition(" ")
            try:
                _consume_jti(client_id, {"jti": jti, "exp": time.time() + 60}, time.time(), None)
                answer = "accepted"
            except ClientAuthError:
                answer = "replayed"
        elif command == "lifetime":
            from oauth2_provider.models import get_application_model

            application = get_application_model().objects.get(client_id=arg)
            answer = str(profile_for(application).access_token_lifetime)
        else:
            answer = "unknown command"
        print(answer, flush=True)


if __name__ == "__main__":
    main()
