"""Resource-server system checks (oidc_provider.E040-E047)."""

import re
from pathlib import Path

import pytest
from django.core import checks


@pytest.fixture
def rs(settings):
    def update(**values):
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": values}
        found = {m.id for m in checks.run_checks() if m.id.startswith("oidc_provider")}
        return found - {"oidc_provider.W002"}  # the tests' per-process LocMemCache (test_checks.py)

    return update


REMOTE = {
    "MODE": "remote",
    "ISSUER": "https://id.example.com/o",
    "AUDIENCE": "https://api.example.com",
    "JWKS_URI": "https://id.example.com/o/.well-known/jwks.json",
}


def test_ids_unique_across_core_and_contrib():
    source = "\n".join(
        p.read_text()
        for p in (Path("oidc_provider/checks.py"), Path("oidc_provider/contrib/rest_framework/checks.py"))
    )
    found = re.findall(r'id="(oidc_provider\.[EW]\d{3})"', source)
    assert len(found) == len(set(found))
    contrib = re.findall(
        r'id="(oidc_provider\.E\d{3})"', Path("oidc_provider/contrib/rest_framework/checks.py").read_text()
    )
    assert all("oidc_provider.E040" <= i <= "oidc_provider.E049" for i in contrib)


def test_local_default_and_a_complete_remote_config_are_clean(rs):
    assert rs() == set()
    assert rs(**REMOTE) == set()


@pytest.mark.parametrize(
    ("values", "check_id"),
    [
        ({**REMOTE, "JWKS_URI": None}, "oidc_provider.E040"),
        ({"JWKS_URL": "https://x"}, "oidc_provider.E041"),
        ({"MODE": "jwks"}, "oidc_provider.E042"),
        ({"USER_MODE": "eager"}, "oidc_provider.E042"),
        ({"REVOCATION_CHECK": True}, "oidc_provider.E042"),
        ({"REVOCATION_CHECK": "introspection"}, "oidc_provider.E045"),
        ({"JWKS_MIN_REFETCH_INTERVAL": 0}, "oidc_provider.E046"),
        ({"HTTP_TIMEOUT": "5"}, "oidc_provider.E046"),
        ({**REMOTE, "JWKS_URI": "http://id.example.com/jwks"}, "oidc_provider.E047"),
        ({**REMOTE, "AUDIENCE": None}, "oidc_provider.E044"),
    ],
)
def test_resource_server_errors(rs, values, check_id):
    assert check_id in rs(**values)


def test_remote_without_issuer(rs, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ""}
    assert "oidc_provider.E043" in rs(**{**REMOTE, "ISSUER": None})
