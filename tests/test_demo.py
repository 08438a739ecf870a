import pytest
from django.core.management import call_command
from oauth2_provider.models import get_application_model

from oidc_provider.models import ClientProfile, SigningKey

from .conftest import basic_auth


@pytest.mark.django_db
def test_demo_setup_is_idempotent(capsys):
    call_command("oidc_demo_setup")
    call_command("oidc_demo_setup")
    Application = get_application_model()
    assert set(Application.objects.values_list("client_id", flat=True)) == {
        "demo-confidential",
        "demo-rp2",
        "demo-public",
        "demo-service",
    }
    assert SigningKey.objects.filter(state="active").count() == 2
    assert SigningKey.objects.filter(state="next").count() == 2
    profiles = ClientProfile.objects.filter(backchannel_logout_session_required=True)
    assert sorted(profiles.values_list("backchannel_logout_uri", flat=True)) == [
        "https://testserver/rp/backchannel-logout",
        "https://testserver/rp2/backchannel-logout",
    ]
    assert "Demo ready." in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_clients_work_after_setup(client):
    call_command("oidc_demo_setup")
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_AUTHORIZATION=basic_auth("demo-service", "demo-service-Jc5Fg8Lq2Tw7Np3Xr6Mh9Db4Kz"),
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    api = client.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 200
    assert api.json()["orders"][0]["item"] == "coffee"


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert "http://" not in body and "https://" not in body  # no external assets


@pytest.mark.django_db
@pytest.mark.urls("example_project.urls")
def test_demo_api_publishes_its_resource_metadata(client, settings):
    from example_project import settings as demo

    api = demo.OIDC_PROVIDER["RESOURCE_SERVER"]
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": api}
    document = client.get("/.well-known/oauth-protected-resource/api").json()
    assert document["resource"] == "http://127.0.0.1:8000/api"
    assert document["scopes_supported"] == ["read", "write"]
    for path in ("/api/orders", "/api/ninja/orders"):
        header = client.get(path).headers["WWW-Authenticate"]
        assert 'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/api"' in header
