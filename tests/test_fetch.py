"""fetch.py against a real local server (loopback only, bounded): deadline, size caps, no
redirects, https only, no internal addresses unless allowed."""

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oidc_provider import fetch
from oidc_provider.fetch import FetchError

JWKS = json.dumps({"keys": []}).encode()
DRIP_SECONDS = 8  # the server's own bound: it stops dripping after this


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, body: bytes, status=200, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/jwks":
            self._send(JWKS)
        elif self.path == "/drip":
            # A valid document, one byte at a time: done in ~DRIP_SECONDS if nobody stops us.
            body = b" " * 20 + JWKS
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(DRIP_SECONDS / len(body))
            except OSError:
                return
        elif self.path == "/drip-headers":
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(40):
                    self.wfile.write(b"X: y\r\n")
                    self.wfile.flush()
                    time.sleep(DRIP_SECONDS / 40)
                self.wfile.write(b"Content-Length: 2\r\n\r\n{}")
            except OSError:
                return
        elif self.path == "/bomb":
            self._send(gzip.compress(b"0" * (20 * 1024 * 1024)), headers=[("Content-Encoding", "gzip")])
        elif self.path == "/gzip":
            self._send(gzip.compress(JWKS), headers=[("Content-Encoding", "gzip")])
        elif self.path == "/large":
            self._send(b" " * (2 * 1024 * 1024))
        elif self.path == "/redirect":
            self._send(b"", 302, [("Location", "/jwks")])
        elif self.path == "/nan":
            self._send(b'{"keys": [], "x": NaN}')
        else:
            self._send(b"", 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self._send(json.dumps({"form": self.rfile.read(length).decode()}).encode())


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_loopback(settings):
    """Plain http needs DEBUG; loopback must be allowed by name, as a site would for a local IdP."""
    settings.DEBUG = True
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "FETCH_ALLOWED_HOSTS": ["127.0.0.1"]}


def test_a_plain_fetch_works(server, allow_loopback):
    assert fetch.fetch_json(f"{server}/jwks", timeout=2) == {"keys": []}


def test_gzip_is_inflated(server, allow_loopback):
    assert fetch.fetch_json(f"{server}/gzip", timeout=2) == {"keys": []}


def test_post_sends_the_form(server, allow_loopback):
    body = fetch.fetch_json(f"{server}/introspect", timeout=2, data={"token": "t"}, auth=("rs", "secret"))
    assert body == {"form": "token=t"}


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_server_dripping_bytes_is_cut_off_at_the_total_deadline(server, allow_loopback, path):
    """Each byte arrives well within any per-read timeout; only a total deadline stops it."""
    with pytest.raises(FetchError, match=r"deadline|Error"):
        fetch.fetch(f"{server}{path}", timeout=1)


def test_a_gzip_bomb_is_refused_while_inflating(server, allow_loopback):
    with pytest.raises(FetchError, match="inflated body larger"):
        fetch.fetch(f"{server}/bomb", timeout=5, max_bytes=64 * 1024)


def test_a_large_body_is_refused_before_it_is_all_read(server, allow_loopback):
    with pytest.raises(FetchError, match="larger than"):
        fetch.fetch(f"{server}/large", timeout=5, max_bytes=64 * 1024)


def test_redirects_are_not_followed(server, allow_loopback):
    with pytest.raises(FetchError, match="HTTP 302"):
        fetch.fetch(f"{server}/redirect", timeout=2)


def test_non_rfc_8259_json_is_refused(server, allow_loopback):
    with pytest.raises(FetchError, match="not JSON"):
        fetch.fetch_json(f"{server}/nan", timeout=2)


def test_plain_http_is_refused_outside_debug(server, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "FETCH_ALLOWED_HOSTS": ["127.0.0.1"]}
    settings.DEBUG = False
    with pytest.raises(FetchError, match="not an https URL"):
        fetch.fetch(f"{server}/jwks", timeout=2)


def test_loopback_is_refused_unless_allowed(server, settings):
    settings.DEBUG = True
    with pytest.raises(FetchError, match="internal address"):
        fetch.fetch(f"{server}/jwks", timeout=2)
    port = server.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match="internal address"):
        fetch.fetch(f"http://localhost:{port}/jwks", timeout=2)  # a name is checked after DNS


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "[::1]",
        "[fe80::1]",
        "224.0.0.1",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "100.64.0.1",
    ],
)
def test_internal_addresses_are_refused_without_connecting(host):
    with pytest.raises(FetchError, match="internal address"):
        fetch.fetch(f"https://{host}/jwks", timeout=1)


def test_the_client_only_learns_that_its_keys_could_not_be_fetched(client, db, settings):
    """A private_key_jwt client whose jwks_uri points inside the network: a generic invalid_client."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from .factories import ClientCredentialsApplicationFactory, ClientProfileFactory
    from .test_client_auth import assertion

    settings.DEBUG = True
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks_uri="http://127.0.0.1:9/jwks",
    )
    response = client.post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(app.client_id, ec.generate_private_key(ec.SECP256R1()), "ES256"),
        },
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"] == "Could not fetch the client's keys."
