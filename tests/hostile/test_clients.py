"""Hostile HTTP clients against a real restreamer: bodies, heads, slow senders, connection floods.

Each case attacks a restreamer subprocess over raw sockets on loopback, with its
limits shrunk through its options where that keeps the case fast, and asserts
that the limit holds, memory and descriptors stay bounded (read from /proc), a
normal client on another loopback address (127.0.0.2) is answered meanwhile,
and the attacker gets no 5xx and causes no ERROR record or traceback.
"""

import datetime as dt
import http.client
import json
import resource
import socket
import threading
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.db.fixtures import pg_dsn, pg_server  # noqa: F401 (fixtures of the node case)
from tests.hostile.watch import error_records, fd_count, files_under, peak_rss_kib, rss_kib
from tests.restreamer.trees import make_tree
from tests.servers import ServerProcess, ServiceProcess, metric

HOUR = "2026-11-27T17"
BATCH = f"/batch/ch/q/{HOUR}"
NORMAL = "127.0.0.2"  # a normal client's address: loopback too, but not the attacker's
ANSWERS_WITHIN = 2.0  # seconds a normal client may wait for a segment while under attack
CLOSED_WITHIN = 1.5  # seconds after an answer within which a closing server has closed


@pytest.fixture
def archive(tmp_path):
    base = tmp_path / "base"
    paths = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 4, size=100_000)
    return base, paths


@pytest.fixture
def victim(archive):
    """``victim(*options)``: a restreamer on ``archive``; afterwards, what every case asserts."""
    base, _ = archive
    started = []
    before = files_under(base.parent)

    def start(*options: str) -> ServerProcess:
        server = ServerProcess(base, *options)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            text = normal_get(server, "/metrics")[1].decode()
            answered = [s for f in text_string_to_metric_families(text) for s in f.samples
                        if s.name == "fastseg_restreamer_requests_total"]  # fmt: skip
            assert answered
            assert not [s for s in answered if s.labels["status"] >= "500"]
        server.stop()
        log = server.log()
        assert not error_records(log), log
    assert files_under(base.parent) == before  # nothing written, nothing hidden


def segment_url(path: Path) -> str:
    return "/segments/" + "/".join(path.parts[-4:])


def normal_get(server: ServerProcess, target: str) -> tuple[int, bytes, float]:
    """A well-behaved client's GET from another address: status, body, seconds taken."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                      source_address=(NORMAL, 0))  # fmt: skip
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        conn.close()


def attacker(server: ServerProcess, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                    source_address=(source, 0))  # fmt: skip
    return sock


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Send what the server takes; False once it has closed (it need not read what it refuses)."""
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def answer(sock: socket.socket) -> tuple[int | None, bytes, bool]:
    """The status and body of the one answer on ``sock``, and whether the server then closed it.

    A server that refused and closed before reading all the request may reset the
    connection: status None if no answer came before that.
    """
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None, data, True
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        status = int(head.split()[1])
        sock.settimeout(CLOSED_WITHIN)
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        return (int(data.split()[1]) if data.startswith(b"HTTP/") else None), data, True
    except TimeoutError:
        closed = False
    return status, body, closed


def ask(server: ServerProcess, request: bytes, source: str = "127.0.0.1"):
    """Send ``request`` on a fresh connection: its answer as :func:`answer` gives it."""
    sock = attacker(server, source)
    try:
        send_quietly(sock, request)
        return answer(sock)
    finally:
        sock.close()


def post(target: str, body: bytes, *headers: str) -> bytes:
    head = [f"POST {target} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def get_metric(server: ServerProcess, name: str, **labels: str) -> float:
    return metric(normal_get(server, "/metrics")[1].decode(), name, **labels)


def test_bodies_over_a_routes_limit_are_refused_before_reading(victim, archive):
    server = victim()
    _, paths = archive
    pid = server.proc.pid
    peak = peak_rss_kib(pid)
    # 1.5 GB announced: 413 at once, nothing read, the connection closed.
    sock = attacker(server)
    sock.sendall(f"POST {BATCH} HTTP/1.1\r\nContent-Length: 1500000000\r\n\r\n".encode())
    status, body, closed = answer(sock)
    assert status == 413
    assert closed
    assert b"65536" in body  # the limit, said
    sock.close()
    # 17 MiB of nested JSON actually sent: refused without being buffered.
    bomb = b"[" + b"[[],[]]," * (17 * 2**20 // 8) + b"[]]"
    status, body, closed = ask(server, post(BATCH, bomb))
    assert status in (413, None)
    assert closed
    # A chunked body that passes the limit is cut off there.
    chunk = b"%x\r\n" % 40_000 + b"[" * 40_000 + b"\r\n"
    head = f"POST {BATCH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    status, _, closed = ask(server, head + chunk * 3 + b"0\r\n\r\n")
    assert status in (413, None)
    assert closed
    # An Upgrade request's body is framed all the same: pywsgi would hand the app the
    # socket itself, read to its end (here: never answered; else, any size buffered).
    sock = attacker(server)
    sock.sendall(post(BATCH, b"[]", "Connection: Upgrade", "Upgrade: h2c"))
    assert answer(sock)[0] == 400  # [] is no list of names
    sock.close()
    # A route that takes no body: 413 too, whatever the method.
    status, _, closed = ask(server, post(segment_url(paths[0]), b"abc").replace(b"POST", b"GET"))
    assert status == 413
    assert closed
    assert peak_rss_kib(pid) - peak < 20_000  # KiB: nothing of the bodies was held
    assert normal_get(server, segment_url(paths[0]))[0] == 200


def test_json_bombs_within_the_limit_cost_milliseconds(victim, archive):
    """64 KiB bombs (deep and wide), two clients looping: a normal client is not held up."""
    server = victim()
    _, paths = archive
    limit = 64 * 1024
    deep = b"[" * limit
    wide = b"[" + b"[]," * ((limit - 3) // 3) + b"[]]"
    assert len(deep) <= limit
    assert len(wide) <= limit
    stop = threading.Event()
    statuses = []

    def loop(bomb: bytes) -> None:
        while not stop.is_set():
            statuses.append(ask(server, post(BATCH, bomb, "Connection: close"))[0])

    attackers = [threading.Thread(target=loop, args=(b,)) for b in (deep, wide)]
    for thread in attackers:
        thread.start()
    try:
        waits = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            status, body, took = normal_get(server, segment_url(paths[1]))
            assert status == 200
            assert body == paths[1].read_bytes()
            waits.append(took)
    finally:
        stop.set()
        for thread in attackers:
            thread.join()
    assert statuses
    assert set(statuses) == {400}
    assert max(waits) < ANSWERS_WITHIN, waits


@pytest.mark.parametrize("target", ["segment", "/files/ch"], ids=["direct path", "wsgi path"])
def test_huge_headers_are_refused_and_their_memory_returned(victim, archive, target):
    server = victim()
    _, paths = archive
    target = segment_url(paths[0]) if target == "segment" else target
    pid = server.proc.pid
    normal_get(server, target)
    rss, peak = rss_kib(pid), peak_rss_kib(pid)
    line = b"X-Pad: " + b"a" * 65_000 + b"\r\n"
    socks = []
    for _ in range(50):  # 300 MiB held before the limit (150 held 916 MiB, kept)
        sock = attacker(server)
        send_quietly(sock, f"GET {target} HTTP/1.1\r\n".encode() + line * 98)
        socks.append(sock)
    statuses = {answer(sock)[0] for sock in socks}
    assert statuses <= {431, None}
    assert 431 in statuses
    for sock in socks:
        sock.close()
    # Many short lines: the count is capped too.
    status, body, closed = ask(server, f"GET {target} HTTP/1.1\r\n".encode() + b"A: b\r\n" * 500)
    assert status == 431
    assert closed
    assert b"header lines" in body
    assert peak_rss_kib(pid) - peak < 20_000  # KiB; 916 MiB before the limit
    assert rss_kib(pid) - rss < 10_000
    assert normal_get(server, segment_url(paths[0]))[0] == 200
    assert get_metric(server, "fastseg_restreamer_bad_requests_total",
                      reason="headers_too_large") >= 50  # fmt: skip


def test_slow_senders_are_closed_after_the_request_timeout(victim, archive):
    server = victim("--request-timeout", "1")
    _, paths = archive
    head = attacker(server)  # slowloris: a header byte every 0.2 s, never the end
    head.sendall(b"GET /files HTTP/1.1\r\nX-Slow: ")
    body = attacker(server)  # the same with a body the route reads
    body.sendall(f"POST {BATCH} HTTP/1.1\r\nContent-Length: 1000\r\n\r\n[".encode())
    started = time.monotonic()
    open_ = {"head": True, "body": True}
    while any(open_.values()) and time.monotonic() - started < 10:
        open_["head"] = open_["head"] and send_quietly(head, b"a")
        open_["body"] = open_["body"] and send_quietly(body, b" ")
        assert normal_get(server, segment_url(paths[0]))[0] == 200
        time.sleep(0.2)
        for name, sock in (("head", head), ("body", body)):
            sock.setblocking(False)
            try:
                if sock.recv(65536) == b"":
                    open_[name] = False
            except BlockingIOError:
                pass
            except OSError:
                open_[name] = False
            sock.setblocking(True)
    took = time.monotonic() - started
    head.close()
    body.close()
    assert not any(open_.values()), open_
    assert took < 4  # 1 s, swept every 0.25 s
    assert get_metric(server, "fastseg_restreamer_connection_timeouts_total",
                      phase="request") == 2  # fmt: skip


def test_idle_connections_are_closed_after_the_keepalive_timeout(victim, archive):
    server = victim("--keepalive-timeout", "1")
    _, paths = archive
    silent = attacker(server)  # connects and says nothing
    kept = attacker(server)  # one request, then silence
    kept.sendall(f"GET {segment_url(paths[0])} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer(kept)[:2] == (200, paths[0].read_bytes())  # then waits for the close
    started = time.monotonic()
    for sock in (silent, kept):
        sock.settimeout(10)
        assert sock.recv(1) == b""
    assert time.monotonic() - started < 3
    silent.close()
    kept.close()
    assert get_metric(server, "fastseg_restreamer_connection_timeouts_total", phase="idle") == 2


@pytest.mark.slow
def test_connections_per_address_are_capped_and_others_still_served(victim, archive):
    """1,100 connections from one address (the fd soft limit is 1,024): 64 held, rest refused."""
    server = victim()
    _, paths = archive
    pid = server.proc.pid
    fds = fd_count(pid)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))  # this test's own sockets
    socks = []
    try:
        for _ in range(1100):
            socks.append(attacker(server))
        time.sleep(0.5)  # the server takes (and turns away) its backlog
        assert fd_count(pid) - fds <= 64 + 8
        status, body, took = normal_get(server, segment_url(paths[2]))
        assert status == 200
        assert took < ANSWERS_WITHIN
        extra = attacker(server)
        status, body, closed = answer(extra)
        assert status == 429
        assert closed
        assert b"64 connections" in body
        extra.close()
    finally:
        for sock in socks:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    refused = get_metric(server, "fastseg_restreamer_connections_refused_total",
                         reason="per_address")  # fmt: skip
    assert refused == 1100 - 64 + 1


def test_connections_in_all_are_capped(victim, archive):
    server = victim("--max-connections", "10", "--max-connections-per-address", "4")
    _, paths = archive
    pid = server.proc.pid
    fds = fd_count(pid)
    socks = [attacker(server, f"127.0.0.{n}") for n in (3, 4, 5, 6) for _ in range(4)]
    try:
        time.sleep(0.3)
        assert fd_count(pid) - fds <= 10 + 4
        status, body, closed = ask(server, b"GET /files HTTP/1.1\r\n\r\n", "127.0.0.7")
        assert status == 503
        assert closed
        assert b"10 connections" in body
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.3)
    assert normal_get(server, segment_url(paths[0]))[0] == 200  # room again
    assert get_metric(server, "fastseg_restreamer_connections_refused_total",
                      reason="total") == 6 + 1  # fmt: skip


@pytest.mark.parametrize(
    "framing",
    [
        ["Content-Length: 3", "Transfer-Encoding: chunked"],
        ["Transfer-Encoding: chunked", "Content-Length: 3"],
        ["Content-Length: 3", "Content-Length: 3"],
        ["Content-Length: +3"],
        ["Content-Length: 3 3"],
        ["Transfer-Encoding: gzip, chunked"],
        ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
    ],
    ids=["cl+te", "te+cl", "two cl", "signed cl", "cl list", "gzip te", "two te"],
)
def test_ambiguous_framing_is_a_400_and_a_close(victim, framing):
    server = victim()
    request = "\r\n".join([f"POST {BATCH} HTTP/1.1", "Host: x", *framing, "", ""]).encode()
    status, body, closed = ask(server, request + b"3\r\n[1]\r\n0\r\n\r\n")
    assert (status, closed) == (400, True), body


@pytest.mark.parametrize(
    "size", [b"F" * 20, b"zz", b"-1", b"", b"1;" + b"x" * 9000], ids=lambda s: repr(s[:8])
)
def test_bad_chunk_sizes_are_a_400(victim, size):
    server = victim()
    head = f"POST {BATCH} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    status, body, closed = ask(server, head + size + b"\r\n" + b"[]" + b"\r\n0\r\n\r\n")
    assert (status, closed) == (400, True), body


@pytest.mark.parametrize(
    "request_",
    [
        b"GET\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/1\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nRange : bytes=0-1\r\n\r\n",
        b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        b"HEAD /files HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",
    ],
    ids=["method only", "http/0.9", "version", "future", "four words", "binary", "no colon",
         "folded", "space before colon", "empty name", "head with body", "long line"],
)  # fmt: skip
def test_malformed_requests_are_a_4xx_logged_below_error(victim, request_):
    server = victim()
    status, body, closed = ask(server, request_)
    assert status in (400, 414), body
    assert closed
    assert body.endswith(b"\n")
    assert body.count(b"\n") == 1


def test_redirects_never_name_the_host_header(victim):
    server = victim()
    for target in ("/files//ch", "/files//ch?x=1", "//files//ch"):
        request = f"GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        request = request.encode()
        status, _, _ = ask(server, request)
        sock = attacker(server)
        sock.sendall(request)
        data = sock.recv(65536)
        sock.close()
        assert status < 500
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"location:"):
                location = line.split(b":", 1)[1].strip()
                assert location.startswith(b"/"), location
                assert not location.startswith(b"//"), location
                assert b"evil" not in location


def test_the_editor_page_keeps_to_its_own_origin(victim):
    server = victim()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/editor")
    response = conn.getresponse()
    response.read()
    assert response.status == 200
    csp = response.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    conn.close()


def test_the_batch_route_still_takes_a_full_list(victim, archive, tmp_path_factory):
    """The limits leave room for what a backfiller sends: 200 names in one request."""
    server = victim()
    _, paths = archive
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # names of segments this node lacks
    others = make_tree(elsewhere, "ch", "q", dt.datetime(2026, 11, 27, 17), 200)
    names = [paths[0].name] + [path.name for path in others[4:]]
    status, body, closed = ask(server, post(BATCH, json.dumps(names).encode()))
    assert status == 200
    assert not closed
    assert body.startswith(f"{paths[0].name} {paths[0].stat().st_size}\n".encode())


def test_unread_batches_hold_a_bounded_number_of_descriptors(victim, archive):
    """Batch answers nobody reads keep their segments open: only MAX_IN_FLIGHT of them at once."""
    server = victim()
    _, paths = archive
    pid = server.proc.pid
    fds = fd_count(pid)
    names = json.dumps([paths[0].name] * 200).encode()  # 20 MB, 400 descriptors
    socks = []
    try:
        for _ in range(12):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
            sock.settimeout(10)
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(post(BATCH, names))
            socks.append(sock)
        statuses = [sock.recv(12)[9:12] for sock in socks]
        assert statuses.count(b"200") == 8
        assert statuses.count(b"429") == 4
        held = fd_count(pid) - fds
        assert held <= 8 * (2 * 200 + 1) + 12 + 8
        status, _, took = normal_get(server, segment_url(paths[1]))
        assert status == 200
        assert took < ANSWERS_WITHIN
    finally:
        for sock in socks:
            sock.close()
    time.sleep(1)
    assert fd_count(pid) - fds <= 4  # every segment closed with its connection


@pytest.mark.slow
def test_a_node_holds_its_clients_to_the_same_limits(tmp_path, pg_dsn):  # noqa: F811 (imported)
    """``fastseg node``'s restreamer, started from the node's own arguments, under attack."""
    base = tmp_path / "base"
    paths = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 2, size=10_000)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    node = ServiceProcess(
        "services.node", "--base-dir", str(base), "--channel", "ch", "--db", pg_dsn,
        "--url", "http://127.0.0.1:1/master.m3u8", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    try:
        node.wait_for_log(r"serving .* on http://127\.0\.0\.1:\d+/", timeout=120)
        node.port = port
        pid = node.proc.pid
        fds, peak = fd_count(pid), peak_rss_kib(pid)
        status, _, closed = ask(node, post(BATCH, b"[" + b"[]," * (6 * 2**20) + b"[]]"))
        assert status in (413, None)
        assert closed
        line = b"X-Pad: " + b"a" * 65_000 + b"\r\n"
        for _ in range(50):
            with attacker(node) as sock:
                send_quietly(sock, b"GET /files HTTP/1.1\r\n" + line * 98)
        assert ask(node, b"GET / HTTP/1\r\n\r\n")[0] == 400
        held = [attacker(node) for _ in range(200)]
        try:
            time.sleep(0.5)
            assert fd_count(pid) - fds <= 64 + 8
            status, body, took = normal_get(node, segment_url(paths[0]))
            assert status == 200
            assert took < ANSWERS_WITHIN
        finally:
            for sock in held:
                sock.close()
        assert peak_rss_kib(pid) - peak < 30_000
    finally:
        node.stop()
    restreamer = [line for line in error_records(node.log()) if "restreamer" in line]
    assert not restreamer, node.log()
    assert "Traceback" not in node.log()


def test_answers_nobody_reads_are_closed_after_the_keepalive_timeout(victim, archive):
    server = victim("--keepalive-timeout", "1")
    _, paths = archive
    pid = server.proc.pid
    fds = fd_count(pid)
    names = json.dumps([paths[0].name] * 200).encode()  # 20 MB, 400 descriptors
    socks = []
    try:
        for _ in range(2):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
            sock.connect(("127.0.0.1", server.port))
            sock.sendall(post(BATCH, names))
            socks.append(sock)
        time.sleep(0.5)
        assert fd_count(pid) - fds > 2 * 400  # held while the answers wait to be read
        time.sleep(2.5)  # 1 s, swept every 0.25 s
        assert fd_count(pid) - fds <= 2  # let go, though the clients still hold their ends
    finally:
        for sock in socks:
            sock.close()
    assert get_metric(server, "fastseg_restreamer_connection_timeouts_total", phase="send") == 2
