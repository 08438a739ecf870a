"""A separate process for cross-process tests: reads commands on stdin, answers one line each.

It shares only the database with the test and the other peers (and Redis when the test gives
one); its cache is its own LocMemCache otherwise, as a gunicorn worker's is.

setup                        -> "ready" after creating keys, user alice, clients code-client and cc-client
kids / active                -> the kids in this process's key ring / the kid it signs RS256 with
rotate / revoke-key KID      -> rotate RS256 / revoke a key, here; answers the active kid
validate TOKEN               -> "ok <sub>" or "invalid <reason>"
claim CLIENT_ID JTI          -> "accepted" or "replayed" (an assertion jti, single use)
token CLIENT_ID              -> an access token (client_credentials over HTTP, in this process)
code CLIENT_ID USERNAME      -> "<code> <verifier>" from /o/authorize/ for a logged-in user
exchange CLIENT_ID CODE VERIFIER -> "<status> <access_token or error>"
api TOKEN                    -> HTTP status of GET /api/orders (DRF, REVOCATION_CHECK "database")
revoke-token CLIENT_ID TOKEN -> HTTP status of POST /o/revoke_token/
lifetime CLIENT_ID           -> the client's access_token_lifetime as this process's cache has it
set-lifetime CLIENT_ID N     -> saves it (a change made in this process)
sync                         -> "ready" once this process is set up (barrier for concurrent commands)
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.test import Client  # noqa: E402

from oidc_provider import jose, keys  # noqa: E402
from oidc_provider.client_auth import ClientAuthError, _consume_jti  # noqa: E402
from oidc_provider.validation import decode_local  # noqa: E402
from tests import oauth  # noqa: E402


def application(client_id):
    from oauth2_provider.models import get_application_model

    return get_application_model().objects.get(client_id=client_id)


def active_kid() -> str:
    return keys.keyring().signing_key("RS256").kid


def run(command: str, args: list[str]) -> str:
    http = Client(HTTP_HOST="testserver", **{"wsgi.url_scheme": "https"})
    if command == "sync":
        return "ready"
    if command == "setup":
        from tests.factories import ApplicationFactory, ClientCredentialsApplicationFactory, UserFactory

        keys.rotate("RS256")
        UserFactory(username="alice")
        ApplicationFactory(client_id="code-client")
        ClientCredentialsApplicationFactory(client_id="cc-client")
        return "ready"
    if command == "active":
        return active_kid()
    if command == "kids":
        return " ".join(sorted(keys.keyring().keys))
    if command == "rotate":
        keys.rotate("RS256")
        return active_kid()
    if command == "revoke-key":
        from oidc_provider.models import SigningKey

        keys.revoke(SigningKey.objects.get(kid=args[0]))
        return active_kid()
    if command == "validate":
        try:
            _, claims = decode_local(args[0])
        except jose.InvalidToken as exc:
            return f"invalid {exc}"
        return f"ok {claims['sub']}"
    if command == "claim":
        try:
            _consume_jti(args[0], {"jti": args[1], "exp": time.time() + 60}, time.time(), None)
        except ClientAuthError:
            return "replayed"
        return "accepted"
    if command == "token":
        return oauth.client_credentials(http, application(args[0]))["access_token"]
    if command == "code":
        from django.contrib.auth import get_user_model

        http.force_login(get_user_model().objects.get(username=args[1]))
        return " ".join(oauth.authorize(http, application(args[0]), scope="openid read"))
    if command == "exchange":
        response = oauth.exchange_code(http, application(args[0]), args[1], args[2])
        body = response.json()
        return f"{response.status_code} {body.get('access_token') or body.get('error')}"
    if command == "api":
        return str(http.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {args[0]}").status_code)
    if command == "revoke-token":
        response = http.post("/o/revoke_token/", {"token": args[1]}, **oauth.basic(args[0]))
        return str(response.status_code)
    if command == "lifetime":
        from oidc_provider.profiles import profile_for

        return str(profile_for(application(args[0])).access_token_lifetime)
    if command == "set-lifetime":
        from oidc_provider.models import ClientProfile

        profile, _ = ClientProfile.objects.get_or_create(application=application(args[0]))
        profile.access_token_lifetime = int(args[1])
        profile.save()
        return "saved"
    return "unknown command"


def main() -> None:
    for line in sys.stdin:
        command, *args = line.split()
        try:
            answer = run(command, args)
        except Exception as exc:  # report, keep serving: the test asserts on the answer
            answer = f"error {type(exc).__name__}: {exc}".replace("\n", " ")
        print(answer, flush=True)


if __name__ == "__main__":
    main()
