"""The server's direct path for segments: plain GET/HEAD answered without WSGI.

Everything here talks raw HTTP/1.x to a real restreamer subprocess, so that the
bytes on the wire (keep-alive, HEAD, requests replayed into pywsgi) are what is
checked; the answers are compared with the Flask view's for the same file.
"""

import datetime as dt
import json
import os
import socket
import time
import urllib.request

import pytest

from services.archive import hourlock
from tests.restreamer.trees import make_tree
from tests.servers import ServerProcess, metric

HOUR = dt.datetime(2026, 11, 27, 17)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One restreamer over three segments (one of 5 MiB) for the module: (server, base, paths)."""
    base = tmp_path_factory.mktemp("direct") / "base"
    paths = make_tree(base, "ch", "q", HOUR, 3)
    paths[2].write_bytes(os.urandom(5 * 1024 * 1024 + 3))
    server = ServerProcess(base)
    try:
        yield server, base, paths
    finally:
        server.stop()


def segment_requests(server) -> tuple[float, float, float]:
    """The server's counts of direct-able segment answers: GETs, HEADs, body bytes."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    counts = [metric(text, "fastseg_restreamer_requests_total", endpoint="segments.segment",
                     method=method, status="200") for method in ("GET", "HEAD")]  # fmt: skip
    return *counts, metric(text, "fastseg_restreamer_segment_bytes_total")


def url(path) -> str:
    return "/segments/" + "/".join(path.parts[-4:])


class Connection:
    """One kept-alive HTTP/1.x connection, raw: requests out, responses parsed by hand."""

    def __init__(self, port: int, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket()
        self.sock.settimeout(30)
        if rcvbuf is not None:  # before connecting, so that the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = bytearray()

    def send(self, method: str, target: str, *headers: str, version: str = "HTTP/1.1") -> None:
        lines = [f"{method} {target} {version}", "Host: x", *headers, "", ""]
        self.sock.sendall("\r\n".join(lines).encode("latin-1"))

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 20)
        self.buffer += data
        return bool(data)

    def response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case names), body."""
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"connection closed before a response: {self.buffer!r}"
        head, rest = self.buffer.split(b"\r\n\r\n", 1)
        self.buffer = bytearray(rest)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, value = line.split(":", 1)
            assert name.lower() not in headers, f"header {name!r} sent twice"
            headers[name.lower()] = value.strip()
        length = 0 if head_only else int(headers.get("content-length", 0))
        while len(self.buffer) < length:
            assert self._fill(), "connection closed inside a body"
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        """True if the server closed the connection (and sent nothing more)."""
        return not self.buffer and not self._fill()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connect():
    opened = []

    def connect(server, rcvbuf: int | None = None) -> Connection:
        opened.append(Connection(server.port, rcvbuf))
        return opened[-1]

    yield connect
    for conn in opened:
        conn.close()


def test_direct_answers_like_the_flask_view(served, connect):
    server, _, paths = served
    conn = connect(server)
    for path in paths:
        conn.send("GET", url(path))
        direct = conn.response()
        # a conditional header that does not match sends the request through Flask
        conn.send("GET", url(path), 'If-None-Match: "other"')
        view = conn.response()
        assert direct[0] == view[0] == 200
        assert direct[2] == view[2] == path.read_bytes()
        assert direct[1].pop("date")
        assert view[1].pop("date")
        assert direct[1] == view[1]
        assert direct[1]["content-type"] == "video/MP2T"
        assert direct[1]["cache-control"] == "public, max-age=31536000, immutable"
        assert direct[1]["access-control-allow-origin"] == "*"


def test_head_gives_the_headers_alone_and_the_connection_goes_on(served, connect):
    server, _, paths = served
    before = segment_requests(server)
    conn = connect(server)
    conn.send("HEAD", url(paths[2]))
    status, headers, body = conn.response(head_only=True)
    assert (status, body) == (200, b"")
    assert int(headers["content-length"]) == paths[2].stat().st_size
    conn.send("GET", url(paths[0]))  # the next request on the same connection
    assert conn.response()[2] == paths[0].read_bytes()
    after = segment_requests(server)
    # one of each, and the bytes count what a body carried: the GET's, not the HEAD's
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, paths[0].stat().st_size]


def test_other_requests_on_the_same_connection_are_replayed_into_the_app(served, connect):
    """Range, listings, escapes and errors go to the app; the stream stays in step."""
    server, _, paths = served
    name = paths[0].name
    conn = connect(server)
    conn.send("GET", url(paths[1]), "Range: bytes=10-19")
    status, headers, body = conn.response()
    assert (status, body) == (206, paths[1].read_bytes()[10:20])
    conn.send("GET", "/files/ch/q/2026-11-27T17")
    assert conn.response()[0] == 200
    conn.send("GET", url(paths[0]).replace(":", "%3A"))  # escapes: decoded by the app
    assert conn.response()[2] == paths[0].read_bytes()
    conn.send("GET", url(paths[0]) + "?x=1")  # a query: the app ignores it
    assert conn.response()[2] == paths[0].read_bytes()
    names = json.dumps([name]).encode()  # a body, read by the route that takes one
    conn.send("POST", "/batch/ch/q/2026-11-27T17", f"Content-Length: {len(names)}")
    conn.sock.sendall(names)
    size = paths[0].stat().st_size
    assert conn.response()[2] == f"{name} {size}\n".encode() + paths[0].read_bytes()
    conn.send("GET", "/segments/ch/q/2026-11-27T17/" + name.replace("-full-", "-nope-"))
    status, _, body = conn.response()
    assert status == 400
    assert body.startswith(b"400 Bad Request: segment ")
    assert body.count(b"\n") == 1
    conn.send("GET", "/segments/ch/q/2026-11-27T18/" + name)  # well-formed, missing
    assert conn.response()[0] == 404
    conn.send("GET", url(paths[2]))  # and a direct one still answers right
    assert conn.response()[2] == paths[2].read_bytes()


@pytest.mark.parametrize(
    "target",
    [
        "/segments/ch/q/2026-11-27T17/../../../../etc/passwd",
        "/segments/ch/../q/2026-11-27T17/{name}",
        "/segments/ch/q/2026-11-27T17/%2e%2e",
        "/segments/ch/.q/2026-11-27T17/{name}",
        "/segments/ch/q/2026-11-27T17/.{name}",
        "/segments/ch/q/2026-11-27/{name}",
    ],
)
def test_bad_paths_get_a_clear_4xx(served, connect, target):
    server, _, paths = served
    conn = connect(server)
    conn.send("GET", target.format(name=paths[0].name))
    status, headers, body = conn.response()
    assert 400 <= status < 500, (status, body)
    assert headers["content-type"].startswith("text/plain")
    assert body.startswith(f"{status} ".encode())
    assert body.count(b"\n") == 1
    assert b"root:" not in body


def test_http_1_0_closes_unless_asked_to_keep_alive(served, connect):
    server, _, paths = served
    conn = connect(server)
    conn.send("GET", url(paths[0]), "Connection: keep-alive", version="HTTP/1.0")
    status, headers, body = conn.response()
    assert (status, headers["connection"], body) == (200, "keep-alive", paths[0].read_bytes())
    conn.send("GET", url(paths[1]), version="HTTP/1.0")
    status, headers, body = conn.response()
    assert (status, headers["connection"], body) == (200, "close", paths[1].read_bytes())
    assert conn.closed()
    conn = connect(server)
    conn.send("GET", url(paths[0]), "Connection: close")  # HTTP/1.1 asking to close
    assert conn.response()[2] == paths[0].read_bytes()
    assert conn.closed()


def test_the_hour_is_locked_while_a_direct_response_is_in_flight(served, connect):
    """The janitor cannot retire an hour while a slow client is still being sent a segment."""
    server, base, paths = served
    hour_dir = str(base / "ch" / "q" / "2026-11-27T17")
    conn = connect(server, rcvbuf=16384)
    conn.send("GET", url(paths[2]))  # 5 MiB: more than the socket buffers hold
    while b"\r\n\r\n" not in conn.buffer:
        conn._fill()
    with pytest.raises(hourlock.HourRetiring):
        hourlock.retire_lock(hour_dir)
    status, _, body = conn.response()  # read it all: the response finishes
    assert (status, body) == (200, paths[2].read_bytes())
    for _ in range(100):  # the lock is dropped just after the last byte is sent
        try:
            lock = hourlock.retire_lock(hour_dir)
        except hourlock.HourRetiring:
            time.sleep(0.01)  # the server is still closing the response
            continue
        hourlock.release(lock)
        break
    else:
        raise AssertionError("the hour stayed locked after the response finished")
    conn.send("GET", url(paths[0]))  # the connection is still usable
    assert conn.response()[2] == paths[0].read_bytes()


def test_requests_in_pieces_pipelined_or_with_bare_newlines_are_all_answered(served, connect):
    """Requests split across reads, pipelined, or with bare newlines: each gets its own answer."""
    server, _, paths = served
    before = segment_requests(server)
    conn = connect(server)
    request = f"GET {url(paths[0])} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    conn.sock.sendall(request[:20])  # the headers not all here yet
    time.sleep(0.2)
    conn.sock.sendall(request[20:])
    assert conn.response()[::2] == (200, paths[0].read_bytes())
    # Three requests in one write: a direct one, one for the app, a direct HEAD.
    conn.sock.sendall(
        request
        + f"GET {url(paths[1])} HTTP/1.1\r\nRange: bytes=0-9\r\n\r\n".encode()
        + f"HEAD {url(paths[1])} HTTP/1.1\r\n\r\n".encode()
    )
    assert conn.response()[::2] == (200, paths[0].read_bytes())
    assert conn.response()[::2] == (206, paths[1].read_bytes()[:10])
    status, headers, _ = conn.response(head_only=True)
    assert (status, int(headers["content-length"])) == (200, paths[1].stat().st_size)
    # Lines ended by LF alone, and a bare CR or LF inside a header: pywsgi's parser decides.
    conn.sock.sendall(f"GET {url(paths[1])} HTTP/1.1\nHost: x\n\n".encode())
    assert conn.response()[::2] == (200, paths[1].read_bytes())
    conn.sock.sendall(f"GET {url(paths[1])} HTTP/1.1\r\nX: a\nRange: bytes=0-1\r\n\r\n".encode())
    assert conn.response()[::2] == (206, paths[1].read_bytes()[:2])
    # On a fresh connection: a body that came in the same read as the requests around it.
    conn = connect(server)
    names = json.dumps([paths[1].name]).encode()
    batch = f"POST /batch/ch/q/2026-11-27T17 HTTP/1.1\r\nContent-Length: {len(names)}\r\n\r\n"
    conn.sock.sendall(request + batch.encode() + names + request)
    size = paths[1].stat().st_size
    assert conn.response()[::2] == (200, paths[0].read_bytes())
    assert conn.response()[::2] == (
        200,
        f"{paths[1].name} {size}\n".encode() + paths[1].read_bytes(),
    )
    assert conn.response()[::2] == (200, paths[0].read_bytes())
    after = segment_requests(server)
    gets, heads, sent = (after[i] - before[i] for i in range(3))
    assert (gets, heads) == (5, 1)  # every 200 is counted, whichever path answered it
    assert sent == 4 * paths[0].stat().st_size + 2 * paths[1].stat().st_size + 10 + 2
