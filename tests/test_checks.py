import re
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def ids(messages):
    return {m.id for m in messages}


def run_checks():
    return checks.run_checks()


@pytest.fixture
def dot(settings):
    def update(**changes):
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **changes}

    return update


@pytest.fixture
def oidc(settings):
    def update(**changes):
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, **changes}

    return update


def test_test_settings_are_clean():
    # W002: the tests' LocMemCache serves one process (test_multiprocess.py uses Redis).
    found = [m for m in run_checks() if m.id.startswith("oidc_provider") and m.id != "oidc_provider.W002"]
    assert found == []


@pytest.mark.parametrize(
    ("caches", "debug", "expected"),
    [
        ({"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}, False, "W002"),
        ({"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}, True, "W002"),
        ({"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}, True, "E026"),
        ({"other": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}, True, "E025"),
        (
            {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}},
            False,
            None,
        ),
    ],
)
def test_cache_shared_by_processes(settings, caches, debug, expected):
    settings.CACHES, settings.DEBUG = caches, debug
    found = {
        i
        for i in ids(run_checks())
        if i in {"oidc_provider.W002", "oidc_provider.E025", "oidc_provider.E026"}
    }
    assert found == ({f"oidc_provider.{expected}"} if expected else set())


def test_check_ids_are_unique_and_each_has_a_hint():
    source = "\n".join(p.read_text() for p in Path("oidc_provider").glob("checks.py"))
    found = re.findall(r'id="(oidc_provider\.[EW]\d{3})"', source)
    assert len(found) == len(set(found)) > 10
    assert source.count("hint=") >= len(found)


def test_dot_not_installed(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "oauth2_provider"]
    from oidc_provider.checks import check_wiring

    assert ids(check_wiring()) == {"oidc_provider.E001"}


@pytest.mark.parametrize(
    ("setting", "value", "check_id"),
    [
        ("OAUTH2_VALIDATOR_CLASS", "oauth2_provider.oauth2_validators.OAuth2Validator", "oidc_provider.E002"),
        ("ACCESS_TOKEN_GENERATOR", None, "oidc_provider.E003"),
        ("REFRESH_TOKEN_GENERATOR", None, "oidc_provider.E004"),
        ("OIDC_ENABLED", False, "oidc_provider.E005"),
        ("OIDC_SERVER_CLASS", "oauthlib.openid.Server", "oidc_provider.E006"),
        ("ACCESS_TOKEN_GENERATOR", "oidc_provider.tokens.generate_refresh_token", "oidc_provider.E007"),
    ],
)
def test_wiring_errors(dot, setting, value, check_id):
    dot(**{setting: value})
    assert check_id in ids(run_checks())


def test_issuer_missing(dot, oidc):
    dot(OIDC_ISS_ENDPOINT="")
    assert "oidc_provider.E010" in ids(run_checks())


@pytest.mark.parametrize("issuer", ["/o", "id.example.com", "https://id.example.com/?x=1", "ftp://x/"])
def test_issuer_not_absolute(oidc, issuer):
    oidc(ISSUER=issuer)
    assert "oidc_provider.E011" in ids(run_checks())


def test_issuer_http_without_debug(dot, settings):
    dot(OIDC_ISS_ENDPOINT="http://id.example.com")
    settings.DEBUG = False
    assert "oidc_provider.E012" in ids(run_checks())
    settings.DEBUG = True
    assert "oidc_provider.E012" not in ids(run_checks())


def test_issuer_disagreement(oidc):
    oidc(ISSUER="https://other.example.com")
    assert "oidc_provider.E013" in ids(run_checks())


def test_unknown_setting(oidc):
    oidc(ACCESS_TOKEN_LIFETME=5)
    assert "oidc_provider.E020" in ids(run_checks())


@pytest.mark.parametrize("algs", [["none"], ["HS256"], ["RS256", "XX999"], []])
def test_unsafe_or_unknown_algorithms(oidc, algs):
    oidc(ALLOWED_ALGORITHMS=algs)
    assert "oidc_provider.E021" in ids(run_checks())


def test_access_token_algorithm_not_allowed(oidc):
    oidc(ACCESS_TOKEN_ALGORITHM="ES256", ALLOWED_ALGORITHMS=["RS256"])
    assert "oidc_provider.E022" in ids(run_checks())


@pytest.mark.parametrize("value", [-1, "900", 1.5, True])
def test_bad_lifetime(oidc, value):
    oidc(ACCESS_TOKEN_LIFETIME=value)
    assert "oidc_provider.E023" in ids(run_checks())


def test_bad_encryption_key(oidc):
    oidc(ENCRYPTION_KEYS=["not-a-fernet-key"])
    assert "oidc_provider.E024" in ids(run_checks())


def test_derived_encryption_key_warns(oidc):
    oidc(ENCRYPTION_KEYS=[])
    assert "oidc_provider.W001" in ids(run_checks())


def test_manage_py_check_fails_on_error(dot):
    dot(REFRESH_TOKEN_GENERATOR=None)
    with pytest.raises(SystemCheckError, match=r"oidc_provider\.E004"):
        call_command("check")


@pytest.mark.parametrize(
    "setting",
    [
        "CLIENT_ASSERTION_MAX_LIFETIME",
        "CLIENT_JWKS_CACHE_SECONDS",
        "CLIENT_JWKS_MIN_REFETCH_INTERVAL",
        "HTTP_TIMEOUT",
    ],
)
def test_client_auth_settings_must_be_positive(oidc, setting):
    oidc(**{setting: 0})
    assert "oidc_provider.E050" in ids(run_checks())


def client_auth_check_ids():
    from oidc_provider.checks import check_client_auth

    assert check_client_auth() == []  # only with --database
    return ids(check_client_auth(databases=["default"]))


@pytest.mark.django_db
def test_client_secret_jwt_with_hashed_secret():
    from .factories import ClientProfileFactory

    ClientProfileFactory(token_endpoint_auth_method="client_secret_jwt")
    assert client_auth_check_ids() == {"oidc_provider.E051"}


@pytest.mark.django_db
def test_client_secret_jwt_with_plain_secret_is_clean():
    from .factories import ApplicationFactory, ClientProfileFactory

    app = ApplicationFactory(hash_client_secret=False, client_secret="x" * 64)
    ClientProfileFactory(application=app, token_endpoint_auth_method="client_secret_jwt")
    assert client_auth_check_ids() == set()


@pytest.mark.django_db
def test_private_key_jwt_without_keys():
    from .factories import ClientProfileFactory

    ClientProfileFactory(token_endpoint_auth_method="private_key_jwt")
    assert client_auth_check_ids() == {"oidc_provider.E052"}


@pytest.mark.django_db
def test_private_key_jwt_with_http_jwks_uri():
    from .factories import ClientProfileFactory

    ClientProfileFactory(
        token_endpoint_auth_method="private_key_jwt", client_jwks_uri="http://rp.example.com/j"
    )
    assert client_auth_check_ids() == {"oidc_provider.E053"}


def test_e060_dot_authorization_view_is_flagged(settings):
    settings.ROOT_URLCONF = "tests.dot_urls"
    assert "oidc_provider.E060" in ids(run_checks())


def test_dot_missing_from_installed_apps_is_e001_not_a_runtime_error(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "nodot_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "INSTALLED_APPS = [a for a in INSTALLED_APPS if a in (\n"
        "    'django.contrib.admin', 'django.contrib.auth', 'django.contrib.contenttypes',\n"
        "    'django.contrib.sessions', 'django.contrib.messages', 'oidc_provider')]\n"
        "ROOT_URLCONF = 'nodot_settings'\n"
        "urlpatterns = []\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.getcwd()}"}
    env["DJANGO_SETTINGS_MODULE"] = "nodot_settings"
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "oidc_provider.E001" in output
    assert "Traceback" not in output and "RuntimeError" not in output


def test_default_audience_given_as_a_string_is_an_error(oidc):
    oidc(DEFAULT_AUDIENCE="https://api.example.com")
    assert "oidc_provider.E029" in ids(run_checks())


@pytest.mark.parametrize("value", [["https://api.example.com", 3], [""], ["not a uri"]])
def test_default_audience_must_be_absolute_uris(oidc, value):
    oidc(DEFAULT_AUDIENCE=value)
    assert "oidc_provider.E029" in ids(run_checks())


def test_oidc_site_without_an_openid_scope_is_an_error(dot, settings):
    scopes = {k: v for k, v in settings.OAUTH2_PROVIDER["SCOPES"].items() if k != "openid"}
    dot(SCOPES=scopes, DEFAULT_SCOPES=["read"])
    assert "oidc_provider.E008" in ids(run_checks())


@pytest.mark.django_db
def test_a_key_encryption_keys_cannot_open_is_a_database_check_error_with_kid_and_hint(settings):
    from cryptography.fernet import Fernet

    from .factories import SigningKeyFactory

    key = SigningKeyFactory(algorithm="ES256")
    assert "oidc_provider.E027" not in ids(checks.run_checks(databases=["default"]))
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}
    assert "oidc_provider.E027" not in ids(run_checks())  # a database check: only when asked
    with pytest.raises(SystemCheckError) as failure:
        call_command("check", "--database", "default")
    message = str(failure.value)
    assert "oidc_provider.E027" in message and key.kid in message
    assert f"oidc_keys revoke {key.kid}" in message and "ENCRYPTION_KEYS" in message
