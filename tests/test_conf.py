import pytest
from django.test import override_settings

from oidc_provider.claims import default_user_claims
from oidc_provider.conf import DEFAULTS, oidc_settings


def test_defaults_are_documented_values():
    assert DEFAULTS["ACCESS_TOKEN_LIFETIME"] == 900  # 15 minutes, as the seeds say
    with override_settings(OIDC_PROVIDER={}):
        assert oidc_settings.ACCESS_TOKEN_LIFETIME == 900
        assert oidc_settings.ALLOWED_ALGORITHMS == ["RS256", "PS256", "ES256", "EdDSA"]
        assert oidc_settings.USERINFO_CLAIMS_PROVIDER is default_user_claims


def test_override_is_seen_and_reverted():
    with override_settings(OIDC_PROVIDER={"ACCESS_TOKEN_LIFETIME": 60}):
        assert oidc_settings.ACCESS_TOKEN_LIFETIME == 60
    assert oidc_settings.ACCESS_TOKEN_LIFETIME == 900


def test_issuer_falls_back_to_dot_and_loses_trailing_slash(settings):
    assert oidc_settings.ISSUER == "https://testserver/o"
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ISSUER": "https://id.example.com/"}
    assert oidc_settings.ISSUER == "https://id.example.com"


def test_default_audience_is_issuer_when_empty(settings):
    settings.OIDC_PROVIDER = {"DEFAULT_AUDIENCE": []}
    assert oidc_settings.default_audience == ["https://testserver/o"]


def test_unknown_setting_name_raises():
    with pytest.raises(AttributeError, match="Invalid OIDC_PROVIDER setting"):
        oidc_settings.NOT_A_SETTING  # noqa: B018


def test_dotted_paths_are_imported(settings):
    settings.OIDC_PROVIDER = {"ACCESS_TOKEN_CLAIMS_HOOK": "tests.hooks.roles_by_scope"}
    from tests.hooks import roles_by_scope

    assert oidc_settings.ACCESS_TOKEN_CLAIMS_HOOK is roles_by_scope
