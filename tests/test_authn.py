from datetime import timedelta

import pytest
from django.utils import timezone

from oidc_provider import authn
from oidc_provider.models import AuthenticationContext


@pytest.mark.parametrize("value", ["-1", "1.5", "soon", "٣"])
def test_parse_max_age_rejects_what_is_not_a_whole_number(value):
    with pytest.raises(ValueError):
        authn.parse_max_age(value)


def test_parse_max_age_accepts_zero_and_absence():
    assert authn.parse_max_age("0") == 0
    assert authn.parse_max_age(None) is None


@pytest.mark.django_db
def test_clear_expired_removes_only_contexts_no_token_uses():
    old = timezone.now() - timedelta(days=1)
    AuthenticationContext.objects.create(code_hash="a" * 64)
    stale = AuthenticationContext.objects.create(code_hash="b" * 64)
    AuthenticationContext.objects.filter(pk=stale.pk).update(created_at=old)
    assert authn.clear_expired() == 1
    assert list(AuthenticationContext.objects.values_list("code_hash", flat=True)) == ["a" * 64]
