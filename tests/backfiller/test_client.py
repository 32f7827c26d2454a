"""The backfiller's segment client against a real HTTP/1.1 server on 127.0.0.1."""

import http.client

import pytest

from services.backfiller.client import PeerClient
from tests.httpfake import FakeHandler, serve, stop

BODY = bytes(range(256)) * 4000  # ~1 MB: several recv calls
# Framed like the batch route: a line, then that many bytes; small and large parts,
# so that a read ahead brings a whole part along, or part of a line.
PARTS = [BODY[:n] for n in (0, 3, 700_000, 10, 0, 5000, 1_000_000, 1)]
FRAMED = b"".join(b"%d\n" % len(part) + part for part in PARTS)


class Handler(FakeHandler):
    connections: list = []

    def do_GET(self):
        type(self).connections.append(self.client_address)
        if self.path == "/root/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(BODY), 300_000):
                part = BODY[i : i + 300_000]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/root/close":
            self.close_connection = True  # answered, then the socket goes: not reusable
        status = 404 if self.path == "/root/missing" else 200
        body = b"no such segment" if status == 404 else BODY
        if self.path == "/root/framed":
            body = FRAMED
        self.send(status, body)


@pytest.fixture
def server():
    Handler.connections = []
    httpd = serve(Handler)
    yield httpd
    stop(httpd)


def fetch(client, path):
    with client.get(path) as resp:
        buffer = bytearray(resp.length) if resp.length is not None else None
        if buffer is not None:
            return resp.status, bytes(buffer[: resp.readinto(buffer)])
        return resp.status, resp.read()


def test_one_connection_serves_many_requests_and_errors_keep_it(server):
    client = PeerClient(f"http://127.0.0.1:{server.server_port}/root/", timeout=10)
    try:
        assert fetch(client, "/a") == (200, BODY)
        assert fetch(client, "/missing") == (404, b"no such segment")
        assert fetch(client, "/b") == (200, BODY)
        assert len({port for _host, port in Handler.connections}) == 1
    finally:
        client.close()


def test_chunked_answers_and_closed_connections_still_work(server):
    client = PeerClient(f"http://127.0.0.1:{server.server_port}/root", timeout=10)
    try:
        assert fetch(client, "/chunked") == (200, BODY)
        assert fetch(client, "/close") == (200, BODY)  # the server closes after it
        assert fetch(client, "/after") == (200, BODY)  # a new connection
        # A kept connection the server dropped while idle: retried once on a new one.
        assert fetch(client, "/kept") == (200, BODY)
        for conn in client._idle:
            conn.sock.shutdown(2)  # as if the peer had closed it
        assert fetch(client, "/again") == (200, BODY)
    finally:
        client.close()


def test_an_unreachable_peer_raises_a_network_error():
    client = PeerClient("http://127.0.0.1:9", timeout=5)
    with pytest.raises((OSError, http.client.HTTPException)), client.get("/x"):
        pass


@pytest.mark.parametrize("ahead", [0, 1, 2, 4096, 2_000_000])
def test_reading_ahead_keeps_what_follows_for_the_next_read(server, ahead):
    client = PeerClient(f"http://127.0.0.1:{server.server_port}/root", timeout=10)
    try:
        with client.get("/framed") as resp:
            got = []
            while line := resp.readline():
                size = int(line)
                room = bytearray(size + ahead)  # room for more than the part
                assert resp.readinto(room, size) == size
                got.append(bytes(room[:size]))
            assert resp.isclosed()
        assert got == PARTS
        assert fetch(client, "/after") == (200, BODY)  # the connection was kept, in step
        assert len({port for _host, port in Handler.connections}) == 1
    finally:
        client.close()
