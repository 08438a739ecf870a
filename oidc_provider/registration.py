"""Dynamic client registration (DOT's RFC 7591/7592 views, ``DCR_ENABLED``) with the
Back-Channel Logout 1.0 §2.2 client metadata: ``backchannel_logout_uri`` and
``backchannel_logout_session_required``, stored in the client's ClientProfile.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.models import get_application_model
from oauth2_provider.views import DynamicClientRegistrationManagementView, DynamicClientRegistrationView

from .logout_http import uri_allowed
from .profiles import profile_for


def _invalid(description: str) -> JsonResponse:
    return JsonResponse({"error": "invalid_client_metadata", "error_description": description}, status=400)


def _logout_metadata(body: bytes) -> dict[str, Any] | JsonResponse:
    """The two members from a registration body (defaults when absent), or the error to answer."""
    try:
        data = json.loads(body)
    except ValueError:
        data = {}  # DOT has answered the parse error already
    data = data if isinstance(data, dict) else {}
    uri = data.get("backchannel_logout_uri", "")
    required = data.get("backchannel_logout_session_required", False)
    if not isinstance(uri, str) or (uri and not uri_allowed(uri)):
        return _invalid("backchannel_logout_uri must be an https URL without a fragment.")
    if not isinstance(required, bool):
        return _invalid("backchannel_logout_session_required must be a boolean.")
    return {"backchannel_logout_uri": uri, "backchannel_logout_session_required": required}


def _with_profile(response: HttpResponse, body: bytes | None) -> HttpResponse:
    """Store (``body`` given) and echo the members on DOT's successful answer; undo DOT's save
    when they are invalid (the caller holds the transaction)."""
    if response.status_code not in (200, 201):
        return response
    data = json.loads(response.content)
    profile = profile_for(get_application_model().objects.get(client_id=data["client_id"]))
    if body is not None:
        values = _logout_metadata(body)
        if isinstance(values, JsonResponse):
            transaction.set_rollback(True)
            return values
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save()
    if profile.backchannel_logout_uri:
        data["backchannel_logout_uri"] = profile.backchannel_logout_uri
    data["backchannel_logout_session_required"] = profile.backchannel_logout_session_required
    answer = JsonResponse(data, status=response.status_code)
    for name, value in response.items():
        if name.lower() not in ("content-type", "content-length"):
            answer[name] = value
    return answer


class RegistrationView(DynamicClientRegistrationView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            return _with_profile(super().post(request, *args, **kwargs), request.body)


class RegistrationManagementView(DynamicClientRegistrationManagementView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _with_profile(super().get(request, *args, **kwargs), None)

    def put(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            return _with_profile(super().put(request, *args, **kwargs), request.body)
