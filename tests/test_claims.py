"""oidc_provider.claims: scope -> claims (OIDC Core §5.4) and the claims parameter (§5.5)."""

import pytest

from oidc_provider.claims import claims_for_scopes, parse_claims_request, requested_claims, requested_value

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_scopes_release_only_their_claims_and_sub_always():
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    assert claims_for_scopes(user, []) == {"sub": str(user.pk)}
    profile = claims_for_scopes(user, ["profile"])
    assert profile["name"] == "Ada Lovelace" and "email" not in profile
    assert claims_for_scopes(user, ["email"])["email"] == user.email
    assert claims_for_scopes(user, [], ["email", "not-a-claim"]) == {"sub": str(user.pk), "email": user.email}


def test_claims_parameter_is_checked():
    claims = {"id_token": {"email": None, "sub": {"value": "7"}}, "userinfo": {"name": {"essential": True}}}
    assert parse_claims_request(claims) is claims
    assert requested_claims(claims, "id_token") == ["email", "sub"]
    assert requested_value(claims, "id_token", "sub") == "7"
    for bad in (["x"], {"id_token": []}, {"userinfo": {"name": "yes"}}):
        with pytest.raises(ValueError):
            parse_claims_request(bad)
        assert requested_claims(bad, "userinfo") == []
