"""Key rotation under load: validation never fails for a published key, and stops at once on revoke."""

import threading
import time

import pytest
from django.db import connection, connections

from oidc_provider import jose, keys
from oidc_provider.models import SigningKey
from oidc_provider.validation import decode_local

from .factories import ClientCredentialsApplicationFactory
from .oauth import client_credentials


def validate(token):
    return decode_local(token)


@pytest.mark.django_db(transaction=True)
def test_rotating_while_threads_validate(client, django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("threads need a shared database (make test runs it against PostgreSQL)")
    keys.rotate("RS256")
    app = ClientCredentialsApplicationFactory()
    tokens = [client_credentials(client, app)["access_token"]]
    failures, checks, stop = [], [0], threading.Event()

    def worker():
        try:
            while not stop.is_set():
                for token in list(tokens):
                    try:
                        validate(token)
                        checks[0] += 1
                    except jose.InvalidToken as exc:
                        failures.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            time.sleep(0.2)
            keys.rotate("RS256")  # the retired key stays published: its tokens keep validating
            tokens.append(client_credentials(client, app)["access_token"])
        time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == [] and checks[0] > 100

    first_kid = jose.parse(tokens[0]).header["kid"]
    keys.revoke(SigningKey.objects.get(kid=first_kid))
    with pytest.raises(jose.InvalidToken, match="unknown key"):
        validate(tokens[0])
    assert validate(tokens[-1])[1]["client_id"] == app.client_id
