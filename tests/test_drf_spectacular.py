"""drf-spectacular documents the JWT Bearer scheme (runs only when the extra is installed)."""

import pytest

pytest.importorskip("drf_spectacular")


@pytest.mark.urls("tests.drf_urls")
def test_schema_names_the_bearer_jwt_scheme(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    }
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["securitySchemes"]["jwtAccessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "RFC 9068 JWT access token from the OpenID provider.",
    }
    assert {"jwtAccessToken": []} in schema["paths"]["/t/scoped"]["get"]["security"]
