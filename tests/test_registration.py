"""Dynamic client registration (DOT's DCR) with back-channel logout metadata."""

from __future__ import annotations

import json

import pytest
from oauth2_provider.models import get_application_model

from oidc_provider.models import ClientProfile

pytestmark = pytest.mark.django_db
METADATA = {
    "client_name": "Registered RP",
    "redirect_uris": ["https://rp.example.com/callback"],
    "grant_types": ["authorization_code"],
}


@pytest.fixture(autouse=True)
def _dcr(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "DCR_ENABLED": True,
        "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    }


def _register(client, **extra):
    return client.post("/o/register/", json.dumps({**METADATA, **extra}), content_type="application/json")


def test_registration_stores_and_echoes_the_back_channel_metadata(client):
    response = _register(
        client,
        backchannel_logout_uri="https://rp.example.com/backchannel",
        backchannel_logout_session_required=True,
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["backchannel_logout_uri"] == "https://rp.example.com/backchannel"
    assert data["backchannel_logout_session_required"] is True
    profile = ClientProfile.objects.get(application__client_id=data["client_id"])
    assert profile.backchannel_logout_uri == "https://rp.example.com/backchannel"
    assert profile.backchannel_logout_session_required
    read = client.get(
        f"/o/register/{data['client_id']}/", HTTP_AUTHORIZATION=f"Bearer {data['registration_access_token']}"
    )
    assert read.status_code == 200 and read.json()["backchannel_logout_session_required"] is True


@pytest.mark.parametrize(
    "extra",
    [
        {"backchannel_logout_uri": "http://rp.example.com/bc"},
        {"backchannel_logout_uri": "https://rp.example.com/bc#fragment"},
        {"backchannel_logout_uri": 7},
        {"backchannel_logout_session_required": "yes"},
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_registered(client, extra):
    response = _register(client, **extra)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert not get_application_model().objects.exists()


def test_an_update_with_bad_metadata_changes_nothing(client):
    data = _register(client, backchannel_logout_uri="https://rp.example.com/bc").json()
    update = client.put(
        f"/o/register/{data['client_id']}/",
        json.dumps({**METADATA, "client_name": "Renamed", "backchannel_logout_uri": "http://x.example/bc"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {data['registration_access_token']}",
    )
    assert update.status_code == 400
    app = get_application_model().objects.get(client_id=data["client_id"])
    assert app.name == "Registered RP"
    assert ClientProfile.objects.get(application=app).backchannel_logout_uri == "https://rp.example.com/bc"
