"""Another issuer's signing keys, fetched from its JWKS (RFC 7517) for a separate API service.

Keys are cached in Django's cache (shared by the service's processes) and parsed once per
fetch in each process. A fetch happens when the cached keys are older than
``JWKS_CACHE_SECONDS`` or a token names an unknown kid, and never more than once per
``JWKS_MIN_REFETCH_INTERVAL`` across all processes, so no token can make us hammer the issuer.
When the issuer cannot be reached, the keys we have stay usable for
``JWKS_STALE_IF_ERROR_SECONDS``. Keys come only from the configured URL: ``jku``/``x5u``/``jwk``
token headers are never looked at.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from oidc_provider import events, shared_cache
from oidc_provider.fetch import FetchError
from oidc_provider.fetch import fetch_json as _fetch_json
from oidc_provider.jwk import InvalidJWK, import_jwk

from .conf import resource_settings

logger = logging.getLogger("oidc_provider.resource_server")

MAX_DOCUMENT_SIZE = 512 * 1024


def fetch_json(url: str, *, timeout: float, auth: tuple[str, str] | None = None, data: Any = None) -> Any:
    """GET (or POST ``data``) a JSON document through ``oidc_provider.fetch``: total deadline,
    size cap before inflating, no redirects, https only, no internal addresses."""
    return _fetch_json(url, timeout=timeout, max_bytes=MAX_DOCUMENT_SIZE, auth=auth, data=data)


def discover(discovery_url: str, issuer: str | None, timeout: float) -> dict[str, Any]:
    """The issuer's metadata; its ``issuer`` must be the one we expect (OIDC Discovery §4.3)."""
    metadata = fetch_json(discovery_url, timeout=timeout)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("jwks_uri"), str):
        raise FetchError(f"{discovery_url}: no jwks_uri")
    if issuer is not None and str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise FetchError(f"{discovery_url}: issuer does not match")
    return metadata


def parse_jwks(document: Any) -> dict[str, tuple[Any, str]]:
    """kid -> (public key object, alg) for the usable signature keys; others are skipped."""
    keys: dict[str, tuple[Any, str]] = {}
    members = document.get("keys") if isinstance(document, dict) else None
    for member in members if isinstance(members, list) else []:
        kid = member.get("kid") if isinstance(member, dict) else None
        if not isinstance(kid, str) or not kid:
            continue
        try:
            # The JWK must name its alg: guessing it from the key type is how confusion starts.
            imported = import_jwk(member, require_alg=True)
        except InvalidJWK as exc:
            logger.info("Skipping JWK %r of the issuer's JWKS: %s", kid, exc)
            continue
        keys[kid] = (imported.key, imported.alg)
    return keys


@dataclass
class _Loaded:
    digest: str = ""
    keys: dict[str, tuple[Any, str]] = field(default_factory=dict)
    fetched_at: float = 0.0


class RemoteJWKS:
    """KeySource over an issuer's JWKS URI (or discovery URL), with shared caching and throttling."""

    def __init__(
        self,
        *,
        jwks_uri: str | None = None,
        discovery_url: str | None = None,
        issuer: str | None = None,
        cache_seconds: int = 300,
        stale_seconds: int = 86400,
        min_refetch_interval: int = 60,
        timeout: float = 5,
    ) -> None:
        if not (jwks_uri or discovery_url):
            raise ValueError("RemoteJWKS needs a jwks_uri or a discovery_url.")
        self.jwks_uri = jwks_uri
        self.discovery_url = discovery_url
        self.issuer = issuer
        self.cache_seconds = cache_seconds
        self.stale_seconds = stale_seconds
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        name = hashlib.sha256(f"{jwks_uri}|{discovery_url}".encode()).hexdigest()[:24]
        self.cache_key = f"oidc_provider:remote-jwks:{name}"
        self.throttle_key = f"{self.cache_key}:fetching"
        self.metadata: dict[str, Any] | None = None
        self._loaded = _Loaded()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> RemoteJWKS:
        s = resource_settings
        return cls(
            jwks_uri=s.JWKS_URI,
            discovery_url=s.DISCOVERY_URL,
            issuer=s.issuer,
            cache_seconds=s.JWKS_CACHE_SECONDS,
            stale_seconds=s.JWKS_STALE_IF_ERROR_SECONDS,
            min_refetch_interval=s.JWKS_MIN_REFETCH_INTERVAL,
            timeout=s.HTTP_TIMEOUT,
        )

    def get(self, kid: str) -> tuple[Any, str] | None:
        """The key for ``kid``; refetches (throttled) when keys are old or the kid is unknown."""
        loaded = self._current()
        if loaded.keys and time.time() < loaded.fetched_at + self.cache_seconds and kid in loaded.keys:
            return loaded.keys[kid]
        loaded = self._refresh(loaded)
        return loaded.keys.get(kid)

    def _current(self) -> _Loaded:
        """This process's keys, replaced by the shared cache's when another process fetched newer ones."""
        loaded = self._loaded
        if loaded.keys and time.time() < loaded.fetched_at + self.cache_seconds:
            return loaded
        return self._adopt(shared_cache.get(self.cache_key)) or loaded

    def _adopt(self, entry: Any) -> _Loaded | None:
        if not isinstance(entry, dict) or not isinstance(entry.get("jwks"), str):
            return None
        with self._lock:
            if entry["digest"] != self._loaded.digest:
                self._loaded = _Loaded(entry["digest"], parse_jwks(json.loads(entry["jwks"])), entry["at"])
            elif entry["at"] > self._loaded.fetched_at:
                self._loaded.fetched_at = entry["at"]
            return self._loaded

    def _refresh(self, loaded: _Loaded) -> _Loaded:
        # One fetch per interval across processes: whoever adds the throttle key fetches.
        if not shared_cache.throttle(self.throttle_key, self.min_refetch_interval):
            return self._usable(loaded)
        try:
            document = self._fetch()
        except FetchError as exc:
            events.jwks_fetch_failed(self.jwks_uri or self.discovery_url, f"issuer's keys kept: {exc}")
            return self._usable(loaded)
        except Exception:
            # A bug or an odd transport error must cost the request its key, never a 500.
            logger.exception("Unexpected error refreshing the issuer's keys.")
            return self._usable(loaded)
        raw = json.dumps(document, sort_keys=True)
        entry = {"jwks": raw, "digest": hashlib.sha256(raw.encode()).hexdigest(), "at": time.time()}
        shared_cache.set(self.cache_key, entry, self.cache_seconds + self.stale_seconds)
        return self._adopt(entry) or loaded

    def _usable(self, loaded: _Loaded) -> _Loaded:
        """Keys past their cache window stay usable for the stale window, then are dropped."""
        if time.time() < loaded.fetched_at + self.cache_seconds + self.stale_seconds:
            return loaded
        return _Loaded()

    def _fetch(self) -> Any:
        uri = self.jwks_uri
        if not uri:
            if self.metadata is None:
                self.metadata = discover(self.discovery_url, self.issuer, self.timeout)
            uri = self.metadata["jwks_uri"]
        document = fetch_json(uri, timeout=self.timeout)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise FetchError(f"{uri}: not a JWK Set")
        return document


_sources: dict[tuple[Any, ...], RemoteJWKS] = {}
_sources_lock = threading.Lock()


def remote_jwks() -> RemoteJWKS:
    """The process-wide RemoteJWKS for the current settings (kept so parsed keys are reused)."""
    s = resource_settings
    signature = (
        s.JWKS_URI,
        s.DISCOVERY_URL,
        s.issuer,
        s.JWKS_CACHE_SECONDS,
        s.JWKS_STALE_IF_ERROR_SECONDS,
        s.JWKS_MIN_REFETCH_INTERVAL,
        s.HTTP_TIMEOUT,
    )
    source = _sources.get(signature)
    if source is None:
        with _sources_lock:
            source = _sources.setdefault(signature, RemoteJWKS.from_settings())
    return source


def clear_local_cache() -> None:
    """Forget parsed keys in this process (tests)."""
    _sources.clear()
