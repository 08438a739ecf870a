"""oidc_provider.grants: codes read once per request and redeemed exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_grant_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from oidc_provider import grants
from oidc_provider.context import issuance

from .factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


def grant_for(app):
    return get_grant_model().objects.create(
        application=app,
        user=UserFactory(),
        code="the-code",
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri="https://rp.example.com/callback",
        scope="openid",
    )


def token_request(app, code="the-code"):
    request = Request("https://testserver/o/token/", "POST", body=f"code={code}")
    request.client = app
    return request


def test_code_grant_is_read_once_and_kept_in_the_issuance_context(django_assert_num_queries):
    app = ApplicationFactory()
    grant = grant_for(app)
    request = token_request(app)
    with django_assert_num_queries(1):
        assert grants.code_grant("the-code", request).pk == grant.pk
        assert grants.code_grant("the-code", request).pk == grant.pk
    assert issuance(request).grant.pk == grant.pk


def test_an_unknown_code_is_invalid_grant():
    with pytest.raises(errors.InvalidGrantError):
        grants.code_grant("nope", token_request(ApplicationFactory(), "nope"))


def test_a_code_is_claimed_once():
    app = ApplicationFactory()
    grant_for(app)
    grants.claim_code(token_request(app))
    with pytest.raises(grants.ReplayDetected):
        grants.claim_code(token_request(app))
