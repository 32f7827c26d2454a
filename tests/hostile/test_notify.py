"""Hostile clients of ``GET /api/events/stream``: too many streams, and one that stops reading.

A restreamer subprocess with the events API on its own schema; the attacker
holds streams over raw sockets on 127.0.0.1, a normal client asks from
127.0.0.2. Each case asserts the limit holds, memory and descriptors stay
bounded, the normal client is answered meanwhile, and the attacker gets no 5xx
(but the stated 503 of the limit in all) and causes no ERROR record.
"""

import socket
import time

import pytest

from services.db import Database, apply_schema, states
from services.restreamer.editor.stream import MAX_STREAMS, MAX_STREAMS_PER_ADDRESS
from tests.db.fixtures import pg_dsn, pg_server  # noqa: F401 (fixtures)
from tests.hostile.test_clients import NORMAL, archive, attacker, get_metric, normal_get
from tests.hostile.watch import error_records, fd_count, files_under, rss_kib
from tests.servers import ServerProcess
from tests.waiting import wait_until

__all__ = ["archive"]  # a fixture, used by name

STREAM = b"GET /api/events/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
ANSWERS_WITHIN = 2.0  # seconds a normal client may wait while under attack


@pytest.fixture
def events_db(pg_dsn):  # noqa: F811 (the imported fixture)
    database = Database(pg_dsn, application_name="fastseg-tests")
    apply_schema(database)
    yield database
    database.close()


@pytest.fixture
def victim(archive, pg_dsn, events_db):  # noqa: F811
    base, _ = archive
    before = files_under(base.parent)
    started = []

    def start(*options):
        server = ServerProcess(base, "--db", pg_dsn, *options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert not error_records(server.log()), server.log()
    assert files_under(base.parent) == before


def open_stream(server, source="127.0.0.1") -> tuple[socket.socket, bytes]:
    sock = attacker(server, source)
    sock.sendall(STREAM)
    sock.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(4096)
        if not data:
            break
        head += data
    return sock, head


def test_streams_per_address_are_capped_and_others_still_served(victim):
    server = victim()
    held = []
    try:
        for _ in range(MAX_STREAMS_PER_ADDRESS):
            sock, head = open_stream(server)
            assert head.startswith(b"HTTP/1.1 200"), head
            held.append(sock)
        fds = fd_count(server.proc.pid)
        for _ in range(20):
            sock, head = open_stream(server)
            assert head.startswith(b"HTTP/1.1 429"), head
            sock.close()
        assert (
            get_metric(
                server, "fastseg_restreamer_event_streams_refused_total", reason="per_address"
            )
            == 20
        )
        assert get_metric(server, "fastseg_restreamer_event_streams") == MAX_STREAMS_PER_ADDRESS
        sock, head = open_stream(server, NORMAL)  # another address still gets its stream
        assert head.startswith(b"HTTP/1.1 200"), head
        held.append(sock)
        status, _, took = normal_get(server, "/api/events")
        assert (status, took < ANSWERS_WITHIN) == (200, True)
        assert fd_count(server.proc.pid) <= fds + 4
    finally:
        for sock in held:
            sock.close()
    # Closed streams give their places back (noticed at the next write: a heartbeat at most).
    wait_until(lambda: gets_a_stream(server), "a place again", timeout=40)


def gets_a_stream(server) -> bool:
    sock, head = open_stream(server)
    sock.close()
    return head.startswith(b"HTTP/1.1 200")


@pytest.mark.slow
def test_a_stream_nobody_reads_is_closed_and_its_memory_bounded(victim, events_db):
    server = victim("--keepalive-timeout", "2")
    sock, head = open_stream(server)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert head.startswith(b"HTTP/1.1 200"), head
    rss = rss_kib(server.proc.pid)
    event = states.add_event(events_db, "Day 1")
    # Each change carries the row: 200 KB a version, written at a pace the hub reads every
    # row at (a faster burst is sent as one small resync), until the unread stream is closed.
    closed = 0.0
    deadline = time.monotonic() + 90
    i = 0
    while not closed and time.monotonic() < deadline:
        for _ in range(10):
            i += 1
            events_db.query("UPDATE events SET notes = %s WHERE id = %s",
                            (f"{i:04d}" * 50_000, event))  # fmt: skip
        time.sleep(0.2)
        closed = get_metric(
            server, "fastseg_restreamer_connection_timeouts_total", phase="send"
        ) + get_metric(server, "fastseg_restreamer_event_streams_refused_total", reason="slow")
    assert closed, f"the unread stream was still open after {i} changes"
    wait_until(lambda: get_metric(server, "fastseg_restreamer_event_streams") == 0,
               "its place to be given back", timeout=30)  # fmt: skip
    assert rss_kib(server.proc.pid) < rss + 64 * 1024  # not the megabytes it was sent
    started = time.monotonic()
    status, _, _ = normal_get(server, "/api/events")
    assert status == 200
    assert time.monotonic() - started < ANSWERS_WITHIN
    sock.close()


@pytest.mark.slow
def test_streams_in_all_are_capped(victim):
    server = victim()
    held = []
    fds = fd_count(server.proc.pid)
    try:
        for i in range(MAX_STREAMS):
            address = f"127.0.1.{1 + i // MAX_STREAMS_PER_ADDRESS}"
            sock, head = open_stream(server, address)
            assert head.startswith(b"HTTP/1.1 200"), head
            held.append(sock)
        sock, head = open_stream(server, "127.0.2.1")
        sock.close()
        assert head.startswith(b"HTTP/1.1 503"), head
        assert b"Retry-After: 30" in head
        assert (
            get_metric(server, "fastseg_restreamer_event_streams_refused_total", reason="total")
            == 1
        )
        status, _, took = normal_get(server, "/api/events")
        assert status == 200
        assert took < ANSWERS_WITHIN
        # A socket each, and one LISTEN connection for all of them: no database connection each.
        assert fd_count(server.proc.pid) <= fds + MAX_STREAMS + 8
    finally:
        for sock in held:
            sock.close()
