"""A peer of the test's own: the restreamer's listing and segment routes, with faults.

It speaks exactly the route shapes of docs/DESIGN.md#http-api that a backfiller uses
(``/files``, ``/files/CH``, ``/files/CH/Q``, ``/files/CH/Q/HOUR``,
``/segments/CH/Q/HOUR/NAME``) over a segment tree on disk, on 127.0.0.1, from a
thread (so pytest is never gevent-patched). Faults a real restreamer will not
produce on demand:

* ``corrupt``: names whose body is served with one byte changed (same length);
* ``gone_hours``: hours listed under their quality whose own listing answers 404;
* ``die_on``: a segment name; the first time it is asked for, half its body is
  sent, then every connection is dropped and the port refuses connections for
  ``down_for`` seconds (the peer died mid-transfer and came back);
* ``garbage``: request paths answered 200 with the given body instead (broken listings);
* ``vanished``: segment names that are listed but answer 404 (deleted in between);
* ``stall_on``: a segment name whose body stops after its first half, the
  connection held open until the peer is stopped (a hung transfer);
* ``slow``: seconds every segment waits before its answer (a long pass).
* ``busy_batches``: ``POST /batch/...`` answers 429, as a fastseg peer does when
  its batch answers in flight are at their cap (without it, 501: no such route).

Every GET's path is recorded in ``paths``, every POST's in ``posts``.
"""

import json
import socket
import threading
import time
import urllib.parse
from http import HTTPStatus
from pathlib import Path

from fastseg import list_segment_files
from tests.httpfake import FakeHandler, FakeServer, serve, stop


class FakePeer:
    def __init__(
        self,
        base: Path,
        *,
        corrupt: set[str] = frozenset(),
        gone_hours: set[str] = frozenset(),
        die_on: str | None = None,
        down_for: float = 1.0,
        stall_on: str | None = None,
        garbage: dict[str, bytes] | None = None,
        vanished: set[str] = frozenset(),
        slow: float = 0.0,
        busy_batches: bool = False,
    ):
        self.base = Path(base)
        self.corrupt = set(corrupt)
        self.gone_hours = set(gone_hours)
        self.die_on = die_on
        self.down_for = down_for
        self.stall_on = stall_on
        self.garbage = dict(garbage or {})
        self.vanished = set(vanished)
        self.slow = slow
        self.busy_batches = busy_batches
        self.stalled = threading.Event()  # set once a stalled transfer has sent its half
        self.release = threading.Event()  # set by stop(): stalled transfers end
        self.paths: list[str] = []
        self.posts: list[str] = []
        self.died = threading.Event()  # set once the peer has dropped its connections
        self.back = threading.Event()  # set once it listens again after dying
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.port = 0
        self.server: FakeServer | None = None
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        peer = self

        class Handler(FakeHandler):  # keep-alive, as the restreamer does
            def setup(self):
                super().setup()
                with peer.lock:
                    peer.connections.add(self.connection)

            def finish(self):
                with peer.lock:
                    peer.connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass  # the peer "died" under this connection

            def do_GET(self):
                peer.paths.append(self.path)
                try:
                    peer.answer(self)
                except OSError:
                    self.close_connection = True

            def do_POST(self):
                peer.posts.append(self.path)
                self.body()
                if peer.busy_batches and self.path.startswith("/batch/"):
                    self.send(HTTPStatus.TOO_MANY_REQUESTS, headers=[("Retry-After", "1")])
                else:
                    self.send_error(HTTPStatus.NOT_IMPLEMENTED)

        self.server = serve(Handler, self.port)
        self.port = self.server.server_port

    def _die(self) -> None:
        """Drop every connection and stop listening; come back after ``down_for`` seconds."""
        server, self.server = self.server, None
        stop(server)
        with self.lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.died.set()
        time.sleep(self.down_for)
        self._start()
        self.back.set()

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            stop(self.server)

    # -- the routes -----------------------------------------------------------------

    def answer(self, handler: FakeHandler) -> None:
        if handler.path in self.garbage:
            self._send(handler, HTTPStatus.OK, self.garbage[handler.path], "application/json")
            return
        parts = [urllib.parse.unquote(p) for p in handler.path.split("?")[0].split("/")[1:]]
        if parts and parts[0] == "files" and len(parts) <= 4:
            self._listing(handler, parts[1:])
        elif parts and parts[0] == "segments" and len(parts) == 5:
            self._segment(handler, parts[1:])
        else:
            self._send(handler, HTTPStatus.NOT_FOUND, b"404 Not Found: no such route\n")

    def _send(self, handler, status, body: bytes, content_type: str = "text/plain") -> None:
        handler.send(status, body, content_type)

    def _listing(self, handler, parts: list[str]) -> None:
        path = self.base.joinpath(*parts)
        if len(parts) == 3 and parts[2] in self.gone_hours:
            names = None
        elif len(parts) == 3:
            tombstones = "tombstones=true" in handler.path.partition("?")[2].split("&")
            names = list_segment_files(str(path), tombstones) if path.is_dir() else None
        else:
            names = sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else None
        if names is None:
            self._send(handler, HTTPStatus.NOT_FOUND, b"404 Not Found\n")
        else:
            self._send(handler, HTTPStatus.OK, json.dumps(names).encode(), "application/json")

    def _segment(self, handler, parts: list[str]) -> None:
        time.sleep(self.slow)
        path = self.base.joinpath(*parts)
        if not path.is_file() or parts[-1] in self.vanished:
            self._send(handler, HTTPStatus.NOT_FOUND, b"404 Not Found\n")
            return
        body = path.read_bytes()
        name = parts[-1]
        if name in self.corrupt:
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        if name in (self.die_on, self.stall_on) and not self.died.is_set():
            handler.send_response(HTTPStatus.OK)
            handler.send_header("Content-Type", "video/MP2T")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            if name == self.stall_on:
                self.stalled.set()
                self.release.wait(60)
                return
            threading.Thread(target=self._die, daemon=True).start()
            self.died.wait(10)
            return
        self._send(handler, HTTPStatus.OK, body, "video/MP2T")
