"""The HTTP plumbing of the tests' local stand-ins (YouTube, Sheets, origins, peers).

Each stand-in speaks its service's protocol in its own handler; what they all
need besides is here once: a threaded server on 127.0.0.1 that runs in a daemon
thread and does not print a traceback for a client that hangs up (the services
under test are killed, or abandon a slow answer, on purpose), and a handler base
with keep-alive, no access log, and one way to read a body and send an answer.
"""

import json
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeHandler", "FakeServer", "serve", "stop"]


class FakeServer(ThreadingHTTPServer):
    """A threaded server whose request threads do not keep the test process alive."""

    daemon_threads = True
    allow_reuse_address = True  # a stand-in that goes down comes back on the same port
    #: Errors of a request that are the client's doing, and not worth a traceback.
    quiet_errors: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], self.quiet_errors):
            super().handle_error(request, client_address)


class FakeHandler(BaseHTTPRequestHandler):
    """A handler with keep-alive (as the real services), no access log, and helpers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # pytest shows failures, not traffic
        pass

    def body(self) -> bytes:
        """The request's body (by its Content-Length; none without one)."""
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        reason: str | None = None,
    ) -> None:
        """A whole answer: status line, headers, Content-Length and ``body``."""
        self.send_response(status, reason)
        for key, value in headers:
            self.send_header(key, value)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(
        self,
        status: int,
        value: object,
        headers: Iterable[tuple[str, str]] = (),
        reason: str | None = None,
    ) -> None:
        """``value`` as a JSON answer, as Google's APIs send it."""
        data = json.dumps(value).encode()
        self.send(status, data, "application/json; charset=UTF-8", headers, reason)


def serve(
    handler: type[BaseHTTPRequestHandler],
    port: int = 0,
    server_class: type[FakeServer] = FakeServer,
) -> FakeServer:
    """``handler`` served on 127.0.0.1 (``port`` 0: any free one) in a daemon thread.

    Stop it with ``server.shutdown()`` then ``server.server_close()``;
    ``server.server_port`` is its port.
    """
    server = server_class(("127.0.0.1", port), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def stop(server: ThreadingHTTPServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()
