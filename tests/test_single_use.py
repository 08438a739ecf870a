"""Single-use records in the database: the unique constraint decides, the cache only helps."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from oidc_provider import single_use
from oidc_provider.models import UsedJti

pytestmark = pytest.mark.django_db


def later(seconds=60):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_value_is_claimed_once_per_namespace():
    assert single_use.claim_once("client-assertion", "client-1\x00jti-1", later())
    assert not single_use.claim_once("client-assertion", "client-1\x00jti-1", later())
    assert single_use.claim_once("dpop", "client-1\x00jti-1", later())
    assert single_use.claim_once("client-assertion", "client-2\x00jti-1", later())


def test_the_value_itself_is_never_stored():
    single_use.claim_once("client-assertion", "secret-looking-jti", later())
    row = UsedJti.objects.get()
    assert "secret-looking-jti" not in row.key and len(row.key) == 64


def test_a_claim_that_expired_can_be_made_again_once():
    assert single_use.claim_once("ns", "k", timezone.now() - timedelta(seconds=1))
    assert single_use.claim_once("ns", "k", later())
    assert not single_use.claim_once("ns", "k", later())


def test_a_claim_inside_an_outer_transaction_uses_a_savepoint():
    from django.db import transaction

    with transaction.atomic():
        assert single_use.claim_once("ns", "k", later())
        assert not single_use.claim_once("ns", "k", later())  # savepoint rolled back, not the outer one
        assert UsedJti.objects.count() == 1


def test_prune_deletes_expired_records_only(capsys):
    single_use.claim_once("ns", "old", timezone.now() - timedelta(seconds=1))
    single_use.claim_once("ns", "live", later())
    call_command("oidc_prune")
    assert "1 used jtis" in capsys.readouterr().out
    assert UsedJti.objects.count() == 1


def test_pruned_opportunistically_at_most_once_a_minute(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(single_use.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(single_use, "_next_prune", 0.0)
    single_use.claim_once("ns", "a", timezone.now() - timedelta(seconds=1))  # prunes (nothing), then stores
    single_use.claim_once("ns", "b", later())  # within the minute: no prune
    assert UsedJti.objects.count() == 2
    clock[0] += single_use.PRUNE_EVERY
    single_use.claim_once("ns", "c", later())
    assert UsedJti.objects.count() == 2  # "a" expired and was pruned


def test_with_a_shared_cache_a_replay_is_refused_without_a_query(monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(single_use.shared_cache, "is_shared", lambda: True)
    assert single_use.claim_once("ns", "k", later())
    with django_assert_num_queries(0):
        assert not single_use.claim_once("ns", "k", later())


def test_the_database_decides_when_the_cache_has_forgotten(monkeypatch):
    """A shared cache that was flushed (or restarted) says "new": the database still refuses."""
    from django.core.cache import cache

    monkeypatch.setattr(single_use.shared_cache, "is_shared", lambda: True)
    assert single_use.claim_once("ns", "k", later())
    cache.clear()
    assert not single_use.claim_once("ns", "k", later())
