"""Admin registrations (``model_admin``); ``ApplicationAdmin`` is DOT's APPLICATION_ADMIN_CLASS.

Without django-oauth-toolkit installed, DOT's admin cannot even be imported: nothing is
registered and check ``oidc_provider.E001`` says what is missing.
"""

from django.apps import apps

if apps.is_installed("oauth2_provider"):
    from .model_admin import ApplicationAdmin, ClientProfileInline, OIDCApplicationForm, SigningKeyAdmin

    __all__ = ["ApplicationAdmin", "ClientProfileInline", "OIDCApplicationForm", "SigningKeyAdmin"]
