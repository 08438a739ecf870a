"""The one outbound POST of back-channel logout: a total deadline, no redirects, public addresses.

Kept to one function, ``post_form``, so it can move onto a shared outbound-fetch helper.
The deadline is total: a watchdog shuts the socket when it passes, so a relying party that
drips its response one byte at a time cannot hold a worker (or a user's sign-out) longer.
The address is resolved once, checked, and connected to as resolved (no second lookup that
DNS rebinding could answer differently); TLS still verifies the certificate for the host name.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from .conf import oidc_settings


class DeliveryError(Exception):
    """The POST did not get an HTTP status; ``str(exc)`` is safe to show in the admin."""


def uri_allowed(uri: str) -> bool:
    """https, or http while DEBUG; no fragment (Back-Channel Logout §2.2)."""
    parts = urlsplit(uri)
    if not parts.hostname or parts.fragment or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and settings.DEBUG)


def _address_allowed(ip: str) -> bool:
    if oidc_settings.BACKCHANNEL_LOGOUT_ALLOW_PRIVATE_ADDRESSES:
        return True
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    return address.is_global and not address.is_multicast


def _resolve(host: str, port: int) -> tuple[int, str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise DeliveryError("The host name could not be resolved.") from None
    for *_, sockaddr in infos:
        if not _address_allowed(sockaddr[0]):
            # Every address must be public: a name that also points inside is refused whole.
            raise DeliveryError("The URI resolves to a private or reserved address.")
    return infos[0][0], infos[0][4][0]


def post_form(uri: str, data: dict[str, str], *, timeout: float) -> int:
    """POST ``data`` form-encoded to ``uri``; returns the HTTP status (3xx is not followed)."""
    if not uri_allowed(uri):
        raise DeliveryError("The URI is not an https URL.")
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    _, ip = _resolve(parts.hostname, port)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    conn._create_connection = lambda address, *args: socket.create_connection((ip, port), *args)
    expired = threading.Event()

    def abort() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, abort)
    watchdog.daemon = True
    watchdog.start()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(
            "POST",
            path,
            body=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-store"},
        )
        status = conn.getresponse().status  # the body is not used (§2.8): never read
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError | socket.timeout):
            raise DeliveryError(f"No complete answer within {timeout:g} s.") from None
        raise DeliveryError(f"Could not deliver: {exc.__class__.__name__}.") from None
    finally:
        watchdog.cancel()
        conn.close()
    return status
