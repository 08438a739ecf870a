"""The one way this package fetches a URL: clients' ``jwks_uri``, a remote issuer's JWKS and
discovery document, remote introspection.

Every fetch has a total deadline (a watchdog closes the socket when it passes, so a server
dripping a byte at a time cannot hold a request), reads at most ``max_bytes`` of the body as sent
and inflates gzip/deflate only up to the same cap (a 50 KB gzip bomb stays 50 KB), follows no
redirect, uses https unless ``DEBUG`` is on, and refuses hosts that resolve to loopback, private,
link-local, multicast or reserved addresses unless ``FETCH_ALLOWED_HOSTS`` names them. The
connection goes to the address that was checked (no second DNS lookup to rebind), with TLS
verified for the host name. DNS resolution itself uses the system resolver's own timeouts.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .conf import oidc_settings

DEFAULT_MAX_BYTES = 512 * 1024
_CHUNK = 16 * 1024


class FetchError(Exception):
    """The document could not be fetched; ``str(exc)`` is for logs, not for clients."""


def scheme_allowed(url: str) -> bool:
    """https only; plain http only while DEBUG (local development)."""
    parts = urlsplit(url)
    return bool(parts.hostname) and (parts.scheme == "https" or (parts.scheme == "http" and settings.DEBUG))


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> str:
    """The address to connect to; FetchError when any address of ``host`` is internal."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"{host}: cannot resolve ({exc.__class__.__name__})") from None
    addresses = [info[4][0] for info in infos]
    if not addresses or any(_internal(a) for a in addresses):
        # All of them: a name with one public and one internal address is refused too.
        raise FetchError(f"{host}: resolves to an internal address")
    return addresses[0]


# -- deadline: a watchdog shuts the socket down when the fetch's time is up ------------------

_local = threading.local()


def _watch(sock: socket.socket) -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return
    timer = threading.Timer(max(deadline - time.monotonic(), 0), _shutdown, (sock,))
    timer.daemon = True
    timer.start()
    _local.timers.append(timer)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: the fetch finished in time
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # before TLS: a handshake dripped byte by byte is cut off too
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Adapter(HTTPAdapter):
    """Connects to ``address`` (when given) while verifying TLS for the URL's host name."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if self.address is not None:
            hostname = host_params["host"]
            host_params["host"] = self.address
            if host_params["scheme"] == "https":
                pool_kwargs["server_hostname"] = hostname
                pool_kwargs["assert_hostname"] = hostname
        return host_params, pool_kwargs


# -- the fetch ------------------------------------------------------------------------------


def _inflate(body: bytes, encoding: str, max_bytes: int) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"unsupported Content-Encoding {encoding!r}")
    inflater = zlib.decompressobj(wbits=47 if encoding != "deflate" else 15)
    try:
        inflated = inflater.decompress(body, max_bytes + 1)
    except zlib.error:
        raise FetchError("malformed compressed body") from None
    if len(inflated) > max_bytes or inflater.unconsumed_tail:
        raise FetchError(f"inflated body larger than {max_bytes} bytes")
    return inflated


def _read(response: Any, max_bytes: int, deadline: float) -> bytes:
    raw = response.raw
    raw.decode_content = False  # the cap applies to the bytes as sent, before inflating
    body = bytearray()
    while chunk := raw.read(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"body larger than {max_bytes} bytes")
    if time.monotonic() >= deadline:
        # The watchdog shut the socket: what was read (headers or body) may be cut short.
        raise FetchError("deadline exceeded")
    return _inflate(bytes(body), response.headers.get("Content-Encoding", ""), max_bytes)


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int = DEFAULT_MAX_BYTES,
    data: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    accept: str = "application/json",
) -> bytes:
    """GET ``url`` (POST ``data`` when given); the body of a 200 answer, else FetchError."""
    if not scheme_allowed(url):
        raise FetchError(f"{url}: not an https URL")
    parts = urlsplit(url)
    host = parts.hostname or ""
    allowed = {h.lower() for h in oidc_settings.FETCH_ALLOWED_HOSTS}
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = None if host.lower() in allowed else resolve(host, port)
    deadline = time.monotonic() + timeout
    _local.deadline, _local.timers = deadline, []
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc from the environment: the checked address is used
    session.mount("https://", _Adapter(address))
    session.mount("http://", _Adapter(address))
    headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate", "Host": parts.netloc.rpartition("@")[2]}
    kwargs = {"timeout": timeout, "allow_redirects": False, "stream": True, "headers": headers}
    try:
        if data is None:
            response = session.get(url, **kwargs)
        else:
            response = session.post(url, data=data, auth=auth, **kwargs)
        try:
            if response.status_code != 200:
                # Redirects are not followed: the configured URL is the one trusted.
                raise FetchError(f"{url}: HTTP {response.status_code}")
            return _read(response, max_bytes, deadline)
        finally:
            response.close()
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        # urllib3 and socket errors come from reading the body (the watchdog shut the socket).
        reason = "deadline exceeded" if time.monotonic() >= deadline else exc.__class__.__name__
        raise FetchError(f"{url}: {reason}") from None
    finally:
        for timer in _local.timers:
            timer.cancel()
        _local.deadline, _local.timers = None, []
        session.close()


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def fetch_json(url: str, **options: Any) -> Any:
    """``fetch`` and parse RFC 8259 JSON (no NaN/Infinity); FetchError otherwise."""
    body = fetch(url, **options)
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise FetchError(f"{url}: not JSON") from None
