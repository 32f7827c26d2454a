"""Hostile chat servers and a hostile peer against the chat archiver and the backfiller.

The chat servers are :class:`tests.chat.ircserver.IrcServer` threads on 127.0.0.1;
the victims are subprocesses, measured from /proc. Each case asserts the limit
holds, nothing is written outside BASE/CHANNEL/chat, memory and descriptors stay
bounded, recording goes on, and no ERROR record or traceback is logged.
"""

import http.client
import json
import os
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from services.archive import chat
from tests.chat import ircserver
from tests.chat.ircserver import IrcServer
from tests.hostile.watch import error_records, fd_count, files_under, peak_rss_kib, rss_kib
from tests.httpfake import FakeHandler, serve, stop
from tests.servers import ServerProcess, ServiceProcess
from tests.waiting import wait_until

T0 = ircserver.T0_MS
GROWTH_MIB = 60  # the archiver's peak memory over its start under a flood (measured: ~20)
EXTRA_FDS = 8


def archiver(base, irc, *extra):
    return ServiceProcess(
        "services.chat_archiver", "--base-dir", str(base), "--channel", "chan", "--name", "v",
        "--irc", irc.url, "--batch-lag", "0", "--merge-interval", "0.5", "--metrics-port", "0",
        *extra,
    )  # fmt: skip


def recorded(base) -> list[dict]:
    root = base / "chan" / "chat"
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if not name.startswith("."):
                out += chat.read_batch(os.path.join(dirpath, name))
    return out


def outside_chat(base) -> set:
    return {p for p in files_under(base) if p.parts[:2] != ("chan", "chat") and p != Path("chan")}


def check_log(node: ServiceProcess) -> None:
    log = node.log()
    assert not error_records(log), log


@pytest.mark.slow
def test_a_flood_of_refused_lines_is_counted_and_recording_goes_on(tmp_path):
    with IrcServer() as irc:
        node = archiver(tmp_path, irc)
        try:
            irc.wait_joined()
            node.metrics()  # up and serving
            rss0, fds0 = rss_kib(node.proc.pid), fd_count(node.proc.pid)
            for i in range(20):
                irc.send_raw(b"x" * 1_000_000)  # 1 MB with no end of line: too long
                irc.send_raw(b"\r\n" + b"\xff\xfe not UTF-8\r\n" * 40 + b"!!! ???\r\n" * 40)
                irc.send(ircserver.privmsg(i, T0 + i * 1000))
            wait_until(lambda: len(recorded(tmp_path)) == 20, "the 20 good messages recorded",
                       timeout=30)  # fmt: skip
            for reason, count in (("too_long", 20), ("not_utf8", 800), ("not_irc", 800)):
                got = node.metric("fastseg_chat_archiver_refused_lines_total", reason=reason)
                assert got == count, reason
            assert peak_rss_kib(node.proc.pid) - rss0 < GROWTH_MIB * 1024
            assert fd_count(node.proc.pid) <= fds0 + EXTRA_FDS
            assert irc.connections == 1  # good lines in between: the connection is kept
        finally:
            assert node.stop() == 0
    check_log(node)
    assert not outside_chat(tmp_path)
    ids = sorted(m["tags"]["id"] for m in recorded(tmp_path))
    assert ids == sorted(f"msg-{i}" for i in range(20))


@pytest.mark.slow
def test_a_server_speaking_no_irc_is_left_and_retried_with_backoff(tmp_path):
    with IrcServer() as irc:
        irc.on_join = b"!!! ???\r\n" * 5000
        node = archiver(tmp_path, irc)
        try:
            wait_until(lambda: irc.connections >= 3, "three tries", timeout=20)
            time.sleep(2)
            # backoff from 0.5 s, doubling (full jitter): a handful of tries, never a storm
            assert irc.connections <= 10
            assert node.metric("fastseg_chat_archiver_connections_total", outcome="not_irc") >= 2
            # the server comes to its senses: recording starts on the next try
            irc.on_join = None
            sent = iter(range(1000))

            def recording() -> bool:
                irc.send(ircserver.privmsg(next(sent), T0))  # to whoever has joined by now
                return bool(recorded(tmp_path))

            wait_until(recording, "a message recorded", timeout=60, interval=0.5)
        finally:
            assert node.stop() == 0
    check_log(node)
    assert not outside_chat(tmp_path)


@pytest.mark.slow
def test_a_stalled_server_is_pinged_then_left(tmp_path):
    with IrcServer() as irc:
        node = archiver(tmp_path, irc, "--idle-timeout", "0.5")
        try:
            irc.wait_joined()
            irc.stalled = True  # reads, never answers, sends nothing
            wait_until(lambda: irc.connections >= 2, "a new connection", timeout=20)
            assert "PING :fastseg" in irc.clients[0].lines
            assert node.metric("fastseg_chat_archiver_connections_total", outcome="closed") >= 1
        finally:
            assert node.stop() == 0
    check_log(node)


HOUR = "2025-12-06T05"


class HostileChatPeer:
    """A peer listing chat batches that are wrong in every way, and one good one."""

    def __init__(self) -> None:
        good = chat.format_batch([{"command": "NOTICE", "params": ["#chan", "hi"], "tags": {},
                                   "time": 1764999970.0, "time_range": 1,
                                   "receivers": {"peer.0": 1764999971.0}}])  # fmt: skip
        garbage = b"not json at all\n"
        self.bodies = {
            chat.batch_name(1764999960, good)[1]: good,
            chat.batch_name(1764999960, garbage)[1]: garbage,  # hash right, content wrong
            "47:00-" + chat.batch_hash(b"other") + ".json": good,  # hash wrong
            "48:00-" + chat.batch_hash(b"big") + ".json": None,  # over the size limit
        }
        self.good = chat.batch_name(1764999960, good)[1]
        listing = [*self.bodies, "../../../escape.json", ".46:00-x.json", "49:00-short.json"]
        peer = self

        class Handler(FakeHandler):
            def do_GET(self):
                parts = [urllib.parse.unquote(p) for p in self.path.split("?")[0].split("/")[1:]]
                try:
                    if parts == ["files", "chan"]:
                        self.send(200, b"[]")
                    elif parts == ["files", "chan", "chat"]:
                        self.send(200, json.dumps([HOUR, "../..", "2999-01-01T00"]).encode())
                    elif parts == ["files", "chan", "chat", HOUR]:
                        self.send(200, json.dumps(listing).encode())
                    elif parts[:4] == ["segments", "chan", "chat", HOUR]:
                        body = peer.bodies.get(parts[4], b"")
                        if body is None:  # 40 MB declared and sent
                            self.send_response(200)
                            self.send_header("Content-Length", str(40 * 1024 * 1024))
                            self.end_headers()
                            for _ in range(40):
                                self.wfile.write(b"x" * 1024 * 1024)
                        else:
                            self.send(200, body)
                    else:
                        self.send(404, b"[]")
                except OSError:
                    self.close_connection = True

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        stop(self.server)


@pytest.mark.slow
def test_a_hostile_peer_plants_nothing_but_its_good_batch(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    peer = HostileChatPeer()
    try:
        proc = ServiceProcess(
            "services.backfiller", "--base-dir", str(base), "--channels", "chan",
            "--node", peer.url, "--run-once", "--localhost", "me",
        )  # fmt: skip
        peak = 0
        while proc.proc.poll() is None:
            try:
                peak = max(peak, peak_rss_kib(proc.proc.pid))
            except (FileNotFoundError, ProcessLookupError, AssertionError):
                break  # exited (a zombie's status has no VmHWM)
            time.sleep(0.05)
        assert proc.wait(60) == 0, proc.log()
    finally:
        peer.stop()
    assert peak < 200 * 1024  # 32 MiB read at most per batch, never the 40 MB offered
    assert files_under(tmp_path) == {
        p.relative_to(tmp_path) for p in [
            base, base / "chan", base / "chan" / "chat", base / "chan" / "chat" / HOUR,
            base / "chan" / "chat" / HOUR / peer.good,
        ]
    }  # fmt: skip
    log = proc.log()
    assert not error_records(log), log
    assert "chat batches too large" in log  # the pass's one WARNING sums up what was refused


def chat_archive(base: Path, hours: int = 2, rate: int = 2) -> None:
    """``hours`` of chat at ``rate`` messages/s under ``base/chan/chat`` (one node's)."""
    start = 1765000800
    for minute in range(hours * 60):
        t0 = start + minute * 60
        batch = [{"command": "PRIVMSG", "params": ["#chan", "x" * 200],
                  "tags": {"id": f"{minute}-{k}"}, "sender": "u", "user": "u",
                  "host": "u.tmi.twitch.tv", "time": t0 + k / rate, "time_range": 0,
                  "receivers": {"n.x.0": t0 + k / rate + 0.1}}
                 for k in range(60 * rate)]  # fmt: skip
        chat.write_batch(str(base / "chan" / "chat"), t0, batch)


@pytest.mark.slow
def test_clients_hammering_chat_json_get_answers_or_429_and_others_are_served(tmp_path):
    base = tmp_path / "base"
    chat_archive(base)
    before = files_under(tmp_path)
    server = ServerProcess(base)
    statuses: list[int] = []
    stop = threading.Event()
    two_hours = "/chan/chat.json?start=2025-12-06T06:00:00&end=2025-12-06T08:00:00"
    a_day = "/chan/chat.json?start=2025-12-06T06:00:00&end=2025-12-07T06:00:00"
    attacks = [two_hours, two_hours, a_day, "/chan/chat.json?start=x&end=y",
               "/..%2Fchan/chat.json?start=1&end=2"]  # fmt: skip

    def attacker(n: int) -> None:
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                conn.request("GET", attacks[n % len(attacks)])
                resp = conn.getresponse()
                resp.read()
                statuses.append(resp.status)
            finally:
                conn.close()
            n += 1

    try:
        threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(6)]
        for t in threads:
            t.start()
        rss0 = rss_kib(server.proc.pid)
        slowest = 0.0
        for _ in range(10):
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                              source_address=("127.0.0.2", 0))  # fmt: skip
            conn.request("GET", "/files/chan/chat")
            resp = conn.getresponse()
            assert resp.status == 200
            assert json.loads(resp.read()) == ["2025-12-06T06", "2025-12-06T07"]
            conn.close()
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(60)
        assert slowest < 2.0  # the loop kept serving while answers were computed
        assert 200 in statuses
        assert 429 in statuses  # two at once, the rest told to come back
        assert not [s for s in statuses if s >= 500]
        assert set(statuses) <= {200, 400, 404, 429}
        # two answers in flight at most: about 30 MB of objects each at this size
        assert peak_rss_kib(server.proc.pid) - rss0 < 400 * 1024
    finally:
        stop.set()
        server.stop()
    assert not error_records(server.log()), server.log()
    assert files_under(tmp_path) == before
