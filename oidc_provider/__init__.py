"""OpenID Connect provider with JWT access tokens for django-oauth-toolkit."""

__version__ = "0.1.0"
