"""A relying party's back-channel logout endpoint on loopback, for delivery tests.

``behaviour`` picks the answer: a status code, "slow" (answers after ``delay``), "drip"
(sends its status line one byte every ``delay`` seconds) or "redirect". Bounded: every
handler returns within a few seconds and the server stops with its fixture.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class LogoutEndpoint:
    def __init__(self) -> None:
        self.behaviour: int | str = 200
        self.delay = 0.2
        self.received: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                endpoint.received.append(
                    {"path": self.path, "headers": dict(self.headers), "form": parse_qs(body)}
                )
                behaviour = endpoint.behaviour
                if behaviour == "slow":
                    time.sleep(endpoint.delay)
                    behaviour = 200
                if behaviour == "drip":
                    try:
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(endpoint.delay)
                    except OSError:
                        pass  # the provider hung up at its deadline, as it should
                    return
                if behaviour == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                else:
                    self.send_response(int(behaviour))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LogoutEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def tokens(self) -> list[str]:
        return [r["form"]["logout_token"][0] for r in self.received]
