"""Admin for signing keys and the OIDC settings of DOT's applications.

Private key material is never rendered: not in lists, forms, hidden fields or detail pages.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from oauth2_provider.admin import ApplicationAdmin as DOTApplicationAdmin
from oauth2_provider.forms import ApplicationForm

from . import backchannel, inspector, keys, sessions
from .conf import oidc_settings
from .forms import ClientProfileForm, SigningKeyCreateForm
from .models import ClientProfile, LogoutDelivery, ProviderSession, SigningKey

IN_USE = (SigningKey.State.ACTIVE, SigningKey.State.NEXT)


def _confirm(modeladmin, request, queryset, action: str, title: str, warning: str):
    return TemplateResponse(
        request,
        "admin/oidc_provider/confirm_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "warning": warning,
            "queryset": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    # Short codes (the filters explain them) so the list fits a 1280-px screen beside the filters.
    list_display = ("kid", "alg", "key_state", "age", "published_until")
    list_filter = ("state", "algorithm")
    search_fields = ("kid",)
    actions = ("rotate_now", "retire_keys", "revoke_keys")
    readonly_fields = (
        "kid",
        "algorithm",
        "state",
        "created_at",
        "activated_at",
        "retired_at",
        "revoked_at",
        "expires_at",
        "public_jwk_display",
        "public_pem_display",
    )

    def get_urls(self):
        inspect = self.admin_site.admin_view(lambda request: inspector.inspect_view(request, self))
        return [path("inspect/", inspect, name="oidc_provider_signingkey_inspect"), *super().get_urls()]

    @admin.display(description="age")
    def age(self, obj: SigningKey) -> str:
        return timesince(obj.created_at, timezone.now()) if obj.created_at else "-"

    @admin.display(description="alg", ordering="algorithm")
    def alg(self, obj: SigningKey) -> str:
        return obj.algorithm

    @admin.display(description="state", ordering="state")
    def key_state(self, obj: SigningKey) -> str:
        return obj.state

    @admin.display(description="published until", ordering="expires_at")
    def published_until(self, obj: SigningKey) -> str:
        """Retired keys stay in the JWKS until their tokens expire; others have no end date."""
        if obj.state == SigningKey.State.REVOKED:
            return "no longer published"
        if obj.expires_at is None:
            return "-"
        return date_format(timezone.localtime(obj.expires_at), "Y-m-d H:i")

    @admin.display(description="public JWK")
    def public_jwk_display(self, obj: SigningKey) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.public_jwk, indent=2, sort_keys=True))

    @admin.display(description="public key (PEM)")
    def public_pem_display(self, obj: SigningKey) -> str:
        key = keys.LoadedKey(obj).public_key
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return format_html("<pre>{}</pre>", pem.decode())

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SigningKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("algorithm", "state", "private_key_pem")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        created = keys.create_key(
            form.cleaned_data["algorithm"],
            state=form.cleaned_data["state"],
            private_key=form.cleaned_data.get("private_key"),
        )
        obj.pk, obj.kid = created.pk, created.kid
        obj._state.adding = False

    def _log_rotation(self, request, result: keys.Rotation) -> None:
        """Admin history (LogEntry) for every key a rotation changed: who rotated, and when."""
        if result.retired is not None:
            self.log_change(request, result.retired, "Retired by a rotation.")
        self.log_change(request, result.activated, "Activated by a rotation.")
        if result.created is not None:
            self.log_addition(request, result.created, "Created as the next key by a rotation.")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting the signing key (or its published successor) would stop signing or break
        # tokens in flight; revoke does the same safely (the next key takes over).
        if obj is not None and obj.state in IN_USE:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions[name] = (SigningKeyAdmin.delete_unused_keys, name, description)
        return actions

    def delete_unused_keys(self, request, queryset):
        """Django's "delete selected", refused when an active or next key is selected."""
        in_use = list(queryset.filter(state__in=IN_USE).values_list("kid", flat=True))
        if in_use:
            self.message_user(
                request,
                f"Active and next keys cannot be deleted ({', '.join(in_use)}). Use "
                '"Revoke" (the next key takes over at once) or "Rotate now"; delete them once revoked.',
                messages.ERROR,
            )
            return None
        return delete_selected(self, request, queryset)

    @admin.action(description="Rotate now (next becomes active, active is retired)")
    def rotate_now(self, request, queryset):
        algs = sorted(set(queryset.values_list("algorithm", flat=True)))
        if "post" not in request.POST:
            return _confirm(
                self,
                request,
                queryset,
                "rotate_now",
                "Rotate signing keys",
                f"Rotate the {', '.join(algs)} keys: the next key starts signing, the active key is retired "
                "and stays published until its tokens expire, and a new next key is created.",
            )
        for alg in algs:
            result = keys.rotate(alg)
            if result.performed:
                self._log_rotation(request, result)
                self.message_user(request, f"{alg}: {result.activated.kid} now signs.", messages.SUCCESS)
            else:
                self.message_user(request, f"{alg}: another rotation happened first.", messages.WARNING)
        return None

    @admin.action(description="Retire (stop signing, keep published until tokens expire)")
    def retire_keys(self, request, queryset):
        if "post" not in request.POST:
            return _confirm(
                self, request, queryset, "retire_keys", "Retire keys", "These keys will no longer sign."
            )
        for key in queryset:
            try:
                keys.retire(key)
            except keys.KeyOperationError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(request, key, "Retired.")
                self.message_user(request, f"{key.kid} retired.", messages.SUCCESS)
        return None

    @admin.action(description="Revoke (compromised: unpublish now, its tokens stop validating)")
    def revoke_keys(self, request, queryset):
        if "post" not in request.POST:
            return _confirm(
                self,
                request,
                queryset,
                "revoke_keys",
                "Revoke compromised keys",
                "These keys leave the JWKS at once and every token they signed stops validating.",
            )
        with transaction.atomic():
            for key in queryset:
                keys.revoke(key)
                self.log_change(request, key, "Revoked (compromised).")
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)
        return None


class ClientProfileInline(admin.StackedInline):
    model = ClientProfile
    form = ClientProfileForm
    can_delete = False
    max_num = 1
    verbose_name = "OpenID Connect / JWT settings"


class OIDCApplicationForm(ApplicationForm):
    """DOT's form without DOT's ``algorithm``: ClientProfile.id_token_algorithm decides.

    DOT's Application.clean() refuses RS256 unless OIDC_RSA_PRIVATE_KEY is set; our keys
    live in the database, so the legacy field is cleared instead of blocking the save.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("client_secret")
        if field is not None and self.instance.pk:
            # An existing secret is never rendered again, hashed or not: only replaced.
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.required = False
            field.show_hidden_initial = False
            field.help_text = (
                "Stored secret not shown. Enter a new value to replace it; leave empty to keep it."
            )

    def clean_client_secret(self) -> str:
        value = self.cleaned_data.get("client_secret")
        if not value and self.instance.pk:
            return (
                type(self.instance).objects.values_list("client_secret", flat=True).get(pk=self.instance.pk)
            )
        return value

    def _post_clean(self) -> None:
        if self.instance.algorithm == self.instance.RS256_ALGORITHM:
            self.instance.algorithm = self.instance.NO_ALGORITHM
        super()._post_clean()


class ApplicationAdmin(DOTApplicationAdmin):
    """DOT's Application admin with our per-client settings and an endpoints panel.

    Enable with OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"] = "oidc_provider.admin.ApplicationAdmin".
    """

    form = OIDCApplicationForm
    exclude = ("algorithm",)
    inlines = (*DOTApplicationAdmin.inlines, ClientProfileInline)
    readonly_fields = (*DOTApplicationAdmin.readonly_fields, "endpoints")

    @admin.display(description="Discovery and endpoints")
    def endpoints(self, obj: Any = None) -> str:
        rows = [("Issuer", oidc_settings.ISSUER or "(not configured)")]
        for label, name in [
            ("Discovery", "oidc-connect-discovery-info"),
            ("Authorization", "authorize"),
            ("Token", "token"),
            ("JWKS", "jwks-info"),
            ("Userinfo", "user-info"),
            ("Introspection", "introspect"),
            ("Revocation", "revoke-token"),
        ]:
            try:
                rows.append((label, reverse(f"oauth2_provider:{name}")))
            except NoReverseMatch:
                continue
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))


# -- provider sessions and back-channel logout -----------------------------------------


@admin.action(description="End their provider sessions (notify their relying parties)")
def end_user_sessions(modeladmin, request, queryset):
    """For the user admin: sign the selected users out here and at every relying party."""
    ended = sum(len(sessions.end_for_user(user, reason="admin")) for user in queryset)
    modeladmin.message_user(request, f"{ended} provider session(s) ended.", messages.SUCCESS)


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProviderSession)
class ProviderSessionAdmin(_ReadOnlyAdmin):
    list_display = ("user", "created_at", "ended_at", "end_reason")
    list_filter = (("ended_at", admin.EmptyFieldListFilter), "end_reason")
    search_fields = ("user__username",)
    fields = ("user", "created_at", "ended_at", "end_reason")
    readonly_fields = fields
    actions = ("end_sessions",)

    @admin.action(description="End these sessions (notify their relying parties)")
    def end_sessions(self, request, queryset):
        ended = sessions.end(
            queryset.values_list("sid", flat=True), reason="admin", delete_django_sessions=True
        )
        self.message_user(request, f"{len(ended)} provider session(s) ended.", messages.SUCCESS)


@admin.register(LogoutDelivery)
class LogoutDeliveryAdmin(_ReadOnlyAdmin):
    """What each relying party answered to its logout token; the token itself is never shown."""

    list_display = ("application", "status", "attempts", "last_status_code", "last_error", "created_at")
    list_filter = ("status", "application")
    fields = (
        "application",
        "uri",
        "subject",
        "sid",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
    actions = ("retry_now",)

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        retried = queryset.filter(status=LogoutDelivery.Status.PENDING).values_list("pk", flat=True)
        queryset.filter(pk__in=list(retried)).update(next_attempt_at=None)
        outcomes = [backchannel.attempt(pk) for pk in retried]
        delivered = outcomes.count(LogoutDelivery.Status.DELIVERED)
        self.message_user(request, f"{delivered} of {len(outcomes)} pending delivery(ies) delivered.")


def _add_user_action() -> None:
    """Offer end_user_sessions in the site's user admin when it is registered on admin.site."""
    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is not None and end_user_sessions not in (user_admin.actions or ()):
        user_admin.actions = (*(user_admin.actions or ()), end_user_sessions)


_add_user_action()
