"""Admin forms on every supported Django (URLField grew assume_scheme in 5.0)."""

import django
import pytest

from oidc_provider.forms import ClientProfileForm


def test_jwks_uri_field_builds_on_this_django():
    field = ClientProfileForm.base_fields["client_jwks_uri"]
    assert field.clean("https://keys.example.com/jwks.json") == "https://keys.example.com/jwks.json"


@pytest.mark.skipif(django.VERSION < (5, 0), reason="assume_scheme exists from Django 5.0")
def test_scheme_less_jwks_uri_is_read_as_https():
    field = ClientProfileForm.base_fields["client_jwks_uri"]
    assert field.clean("keys.example.com/jwks.json") == "https://keys.example.com/jwks.json"


@pytest.mark.skipif(django.VERSION >= (5, 0), reason="Django 4.2 assumes http")
@pytest.mark.django_db
def test_scheme_less_jwks_uri_is_refused_on_django_42():
    form = ClientProfileForm(data={"client_jwks_uri": "keys.example.com/jwks.json"})
    assert not form.is_valid()
    assert "must use https" in form.errors["client_jwks_uri"][0]
