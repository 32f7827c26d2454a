"""A hostile peer against a real backfiller: it may be refused, never hide, fill or stop it.

Each attacker is a :class:`HostilePeer`, a real HTTP server on 127.0.0.1 answering the
routes a backfiller walks (``/files/...``, ``/segments/...``, ``POST /batch/...``)
with one attack. The victim is an archive of small sparse segments with a real
restreamer over it (its listings and playlists are compared before and after);
the backfiller is a subprocess (``python -m services.backfiller``), measured from
/proc. An honest FakePeer (tests/backfiller/peer.py) holds segments the victim
lacks, under a quality of their own: they must keep arriving during the attack.
"""

import datetime as dt
import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from fastseg import hour_name, list_segment_files, segment_name, tombstone_path
from tests.backfiller.peer import FakePeer
from tests.fastseg.trees import fake_id, put_run
from tests.hostile.watch import error_records, files_under, peak_rss_kib
from tests.httpfake import FakeHandler, serve, stop
from tests.media import store_segment
from tests.servers import ServerProcess, ServiceProcess
from tests.waiting import wait_until

CHANNEL = "test"
H1 = dt.datetime(2026, 11, 20, 9)  # the victim's two hours: 400 and 100 segments
H2 = dt.datetime(2026, 11, 20, 10)
HOURS = [hour_name(H1), hour_name(H2)]
LONG = "é" * 255  # 510 bytes in UTF-8: no file system takes it as a name
NOT_HELD = 40_000  # tombstones of segments the victim lacks, in a listing under the cap
FLOOD = 200_000  # as many: a listing over the cap
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)
MAX_RSS_MIB = 150  # the backfiller's peak under every attack at once (measured: 70; idle: 60)


def _tombstone(name: str) -> str:
    return os.path.basename(tombstone_path(name))


class HostilePeer:
    """A peer answering every route with one ``mode`` of attack (see ``_answer``)."""

    def __init__(self, mode: str, victim: dict[str, list[str]]) -> None:
        self.mode = mode
        self.victim = victim  # hour: the victim's segment names, which the floods aim at
        start = H2 + dt.timedelta(minutes=30)
        # Segments the victim lacks (well-formed names, old enough to be fetched).
        self.bait = [segment_name(start + dt.timedelta(seconds=2 * i), dt.timedelta(seconds=2),
                                  "full", fake_id((mode, i))) for i in range(8)]  # fmt: skip
        self.requests = 0
        peer = self

        class Handler(FakeHandler):
            def do_GET(self):
                peer.requests += 1
                try:
                    peer._answer(self)
                except OSError:  # the backfiller hung up on an endless body: as it should
                    self.close_connection = True

            def do_POST(self):
                peer.requests += 1
                names = json.loads(self.body())
                try:
                    peer._batch(self, names)
                except OSError:
                    self.close_connection = True

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        stop(self.server)

    def _send(self, handler, body: bytes, status: int = 200) -> None:
        handler.send(status, body)

    def _json(self, handler, names: list[str]) -> None:
        self._send(handler, json.dumps(names).encode())

    def _endless(self, handler, piece: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        while True:  # until the backfiller hangs up (OSError)
            handler.wfile.write(chunk)

    def _answer(self, handler) -> None:
        path, _, query = handler.path.partition("?")
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]]
        mode = self.mode
        if parts[0] == "files" and len(parts) == 2:  # the channel's qualities
            if mode == "huge_listing":
                handler.send_response(200)
                handler.send_header("Content-Length", "3000000000")
                handler.end_headers()
                handler.wfile.write(b'["' + b"a" * 65536)
                handler.close_connection = True
            elif mode == "endless_listing":
                self._endless(handler, b'"aaaaaaaaaaaaaaaa",' * 4096)
            elif mode == "nested":  # json.loads raises RecursionError, not ValueError
                self._send(handler, b"[" * 100_000)
            elif mode == "names":
                self._json(handler, [LONG, "../up", ".hidden", "a/b"]
                           + [f"q{i}" for i in range(3000)])  # fmt: skip
            else:
                self._json(handler, ["source"])
        elif parts[0] == "files" and len(parts) == 3:  # a quality's hours
            if mode == "names":
                future = [hour_name(dt.datetime(2100, 1, 1) + dt.timedelta(hours=i))
                          for i in range(2000)]  # fmt: skip
                old = [hour_name(dt.datetime(2001, 1, 1) + dt.timedelta(hours=i))
                       for i in range(1000)]  # fmt: skip
                self._json(handler, [LONG, "../..", *future, *old, HOURS[1]])
            else:
                self._json(handler, sorted(self.victim))
        elif parts[0] == "files" and len(parts) == 4:  # an hour's names
            self._hour(handler, parts[3])
        elif parts[0] == "segments" and len(parts) == 5:
            self._segment(handler, parts[4])
        else:
            self._send(handler, b"no such route\n", 404)

    def _hour(self, handler, hour: str) -> None:
        held = self.victim.get(hour, [])
        if self.mode == "flood":
            fake = []
            if hour == HOURS[0]:
                fake = [_tombstone(segment_name(H1 + dt.timedelta(seconds=i * 0.01),
                                                dt.timedelta(seconds=2), "full", fake_id(i)))
                        for i in range(NOT_HELD)]  # fmt: skip
            self._json(handler, [_tombstone(n) for n in held] + fake)
        elif self.mode == "flood_huge":
            self._json(handler, [_tombstone(n) for n in held] + [
                _tombstone(segment_name(H1 + dt.timedelta(seconds=i * 0.01),
                                        dt.timedelta(seconds=2), "full", fake_id(i)))
                for i in range(FLOOD)])  # fmt: skip
        elif self.mode == "names":
            self._json(handler, [LONG + ".ts", LONG + ".tombstone", "../../up.ts",
                                 f"{LONG}/x.ts", *self.bait[:2]])  # fmt: skip
        else:
            self._json(handler, self.bait if hour == HOURS[1] else [])

    def _segment(self, handler, name: str) -> None:
        if self.mode == "bad_numbers":  # '²'.isdigit() is true, int('²') raises
            handler.send_response(200)
            handler.send_header("Content-Length", "²")
            handler.end_headers()
            handler.close_connection = True
        elif self.mode == "huge_segment":
            handler.send_response(200)
            handler.send_header("Content-Length", str(100 * 1024**3))
            handler.end_headers()
            handler.wfile.write(b"\0" * 1024 * 1024)
            handler.close_connection = True
        elif self.mode == "endless_segment":
            self._endless(handler, b"\0" * 65536)
        else:  # corrupt, names: bytes that do not hash to the name
            self._send(handler, os.urandom(1000))

    def _batch(self, handler, names: list[str]) -> None:
        if self.mode == "huge_segment":  # the batch route declares it huge too
            handler.send_response(200)
            handler.send_header("Content-Length", str(200 * 1024**3))
            handler.end_headers()
            handler.wfile.write(f"{names[0]} {100 * 1024**3}\n".encode() + b"\0" * 1024 * 1024)
            handler.close_connection = True
        elif self.mode == "bad_numbers":
            self._send(handler, f"{names[0]} ²\n".encode("latin-1"))
        elif self.mode == "corrupt":
            body = b"".join(f"{n} 1000\n".encode() + os.urandom(1000) for n in names)
            self._send(handler, body)
        else:  # like a wubloader peer: one GET per segment
            self._send(handler, b"no batch route\n", 404)


def put_real(base: Path, quality: str, start: dt.datetime, count: int) -> list[str]:
    """``count`` 2-second segments of random bytes under their true hash (the honest peer's)."""
    names = []
    for i in range(count):
        path = store_segment(base, CHANNEL, quality, start + dt.timedelta(seconds=2 * i), 2,
                             os.urandom(20_000))  # fmt: skip
        names.append(path.name)
    return names


@pytest.fixture
def victim(tmp_path):
    """The victim's archive: 400 segments in H1, 100 in H2 (sparse, 1 kB), and a restreamer."""
    base = tmp_path / "victim"
    put_run(base / CHANNEL / "source", H1, 400)
    put_run(base / CHANNEL / "source", H2, 100)
    server = ServerProcess(base)
    yield base, server
    server.stop()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def seen_by_clients(server: ServerProcess) -> dict[str, bytes]:
    """What a client of the victim sees of its source quality: listings and the playlist."""
    urls = [f"/files/{CHANNEL}/source", f"/playlist/{CHANNEL}/source.m3u8"]
    for hour in HOURS:
        listing = f"/files/{CHANNEL}/source/{hour}"
        urls += [listing, f"{listing}?tombstones=true"]
    return {url: _get(server.url + url) for url in urls}


def held(base: Path) -> dict[str, list[str]]:
    return {h: list_segment_files(str(base / CHANNEL / "source" / h)) for h in HOURS}


def backfill(base: Path, *args: str) -> ServiceProcess:
    return ServiceProcess(
        "services.backfiller", "--base-dir", str(base), "--channels", CHANNEL,
        "--localhost", "victim", "--metrics-port", "0", "--recent-cutoff", "0", *args,
    )  # fmt: skip


def outside(root: Path, base: Path) -> set[Path]:
    return {p for p in files_under(root) if not (root / p).is_relative_to(base)}


@pytest.mark.slow
def test_every_attack_at_once_is_refused_while_an_honest_peer_is_backfilled(victim, tmp_path):
    base, server = victim
    before = seen_by_clients(server)
    names = held(base)
    attackers = {mode: HostilePeer(mode, names) for mode in (
        "flood", "huge_listing", "endless_listing", "huge_segment", "endless_segment",
        "corrupt", "names", "nested", "bad_numbers")}  # fmt: skip
    flood_huge = HostilePeer("flood_huge", names)
    honest_base = tmp_path / "honest"
    wanted = put_real(honest_base, "480p", H2, 20)
    honest = FakePeer(honest_base)
    around = outside(tmp_path, base)
    nodes = [f"--node={mode}={peer.url}" for mode, peer in attackers.items()]
    run = backfill(
        base, *nodes, f"--node=flood_huge={flood_huge.url}", f"--node=honest={honest.url}",
        "--start", str((NOW - H1).total_seconds() / 3600 + 2),
        "--max-segment-mb", "1", "--pass-interval", "0.2", "--backoff", "0.1",
        "--max-backoff", "0.5", "--concurrency", "2",
    )  # fmt: skip
    try:
        arrived = lambda: set(os.listdir(base / CHANNEL / "480p" / hour_name(H2)))  # noqa: E731
        passes = lambda p: sum(run.metric("fastseg_backfiller_passes_total", peer=p, outcome=o)  # noqa: E731
                               for o in ("clean", "errors", "failed"))  # fmt: skip
        wait_until(lambda: (base / CHANNEL / "480p").is_dir() and arrived() == set(wanted),
                   "the honest peer's segments", 60, detail=lambda: run.log()[-3000:])  # fmt: skip
        for mode in [*attackers, "flood_huge"]:
            wait_until(lambda m=mode: passes(m) >= 3, f"three passes over {mode}", 60,
                       detail=lambda: run.log()[-3000:])  # fmt: skip
        # The honest peer is still served after many attacking passes: a new segment arrives.
        late = put_real(honest_base, "480p", H2 + dt.timedelta(minutes=10), 1)
        around = outside(tmp_path, base)
        wait_until(lambda: set(late) <= arrived(), "a segment added during the attack", 30,
                   detail=lambda: run.log()[-3000:])  # fmt: skip
        rss = peak_rss_kib(run.proc.pid)
        metrics = run.metrics()
    finally:
        code = run.stop()
        for peer in [*attackers.values(), flood_huge]:
            peer.stop()
        honest.stop()
    log = run.log()
    assert code == 0, log
    assert error_records(log) == [], log[-5000:]

    # Nothing hidden: every client of the victim sees the source quality as before.
    assert seen_by_clients(server) == before
    assert held(base) == names
    assert not [p for p in files_under(base) if p.name.endswith(".tombstone")]
    # Nothing created but what the honest peer had: no junk quality, hour or temp file.
    assert sorted(os.listdir(base / CHANNEL)) == ["480p", "source"]
    assert os.listdir(base / CHANNEL / "480p") == [hour_name(H2)]
    assert sorted(os.listdir(base / CHANNEL / "source")) == HOURS
    assert not [p for p in files_under(base) if "-temp-" in p.name]
    assert outside(tmp_path, base) == around  # nothing written outside BASE
    print(f"backfiller peak RSS under attack: {rss} KiB")
    assert rss < MAX_RSS_MIB * 1024, f"peak RSS {rss} KiB"

    def count(name, **labels):
        from tests.servers import metric  # noqa: PLC0415

        return metric(metrics, name, **labels)

    refused = "fastseg_backfiller_refused_total"
    assert count(refused, peer="flood", reason="tombstone_untrusted") >= 3 * 500
    assert count(refused, peer="flood", reason="tombstone_not_held") >= 3 * NOT_HELD
    # 3000 listed, 16 a channel may have: 15 new ones (or 14 once 480p is here)
    assert count(refused, peer="names", reason="quality") >= 3 * (3000 - 15)
    assert count(refused, peer="names", reason="name") >= 3
    assert count(refused, peer="names", reason="hour") >= 3 * 2000
    errors = "fastseg_backfiller_errors_total"
    for mode in ("huge_listing", "endless_listing", "flood_huge"):
        assert count(errors, peer=mode, kind="too_large") >= 3, mode
    for mode in ("huge_segment", "endless_segment"):
        assert count(errors, peer=mode, kind="too_large") >= 3, mode
    assert count(errors, peer="corrupt", kind="hash_mismatch") >= 3
    assert count(errors, peer="nested", kind="bad_listing") >= 3
    assert count(errors, peer="bad_numbers", kind="unreachable") >= 3
    for mode in [*attackers, "flood_huge"]:
        assert count("fastseg_backfiller_worker_restarts_total", peer=mode) == 0, mode
    assert count("fastseg_backfiller_tombstones_total", peer="flood", channel=CHANNEL,
                 quality="source") == 0  # fmt: skip
    # Each refusal is summed up per pass, not logged per name.
    assert log.count("refused this pass") < 100, log[-5000:]
    assert "declares a listing of 3000000000 bytes" in log
    assert "more than --max-segment-mb 1" in log


@pytest.mark.slow
def test_a_trusted_peer_hides_only_held_segments_within_the_caps_and_undo_shows_them(victim):
    base, server = victim
    before = seen_by_clients(server)
    names = held(base)
    peer = HostilePeer("flood", names)
    try:
        run = backfill(base, f"--node=flood={peer.url}", "--trust-tombstones-from", "flood",
                       "--run-once")  # fmt: skip
        assert run.wait(120) == 0, run.log()
    finally:
        peer.stop()
    log = run.log()
    assert error_records(log) == [], log[-5000:]
    stones = {h: sorted(n for n in os.listdir(base / CHANNEL / "source" / h)
                        if n.endswith(".tombstone")) for h in HOURS}  # fmt: skip
    # Only for segments held here, at most 300 per hour (the rest next pass).
    assert len(stones[HOURS[0]]) == 300
    assert len(stones[HOURS[1]]) == 100
    for hour, found in stones.items():
        assert {n.removesuffix(".tombstone") + ".ts" for n in found} <= set(names[hour])
    assert "copied 400 tombstones" in log
    assert "100 tombstones past 300 per hour" in log
    assert f"{NOT_HELD} tombstones of segments not held here" in log
    assert len(held(base)[HOURS[0]]) == 100

    # fastseg tombstone --undo shows every one again, as before.
    paths = [str(base / CHANNEL / "source" / h / n) for h, found in stones.items() for n in found]
    undo = ServiceProcess("services.cli", "tombstone", "--undo", *paths, stdout=subprocess.DEVNULL)
    assert undo.wait(60) == 0, undo.log()
    assert seen_by_clients(server) == before


@pytest.mark.slow
def test_a_trusted_peer_copies_at_most_1000_tombstones_a_pass(tmp_path):
    base = tmp_path / "victim"
    starts = [H1 + dt.timedelta(hours=i) for i in range(4)]
    for start in starts:
        put_run(base / CHANNEL / "source", start, 300)
    names = {hour_name(s): list_segment_files(str(base / CHANNEL / "source" / hour_name(s)))
             for s in starts}  # fmt: skip
    peer = HostilePeer("flood", names)
    try:
        run = backfill(base, f"--node={peer.url}", "--trust-tombstones-from", peer.url,
                       "--run-once")  # fmt: skip
        assert run.wait(120) == 0, run.log()
    finally:
        peer.stop()
    log = run.log()
    assert error_records(log) == [], log[-5000:]
    stones = [p for p in files_under(base) if p.name.endswith(".tombstone")]
    assert len(stones) == 1000  # trusted by its URL; 200 left for the next pass
    assert "copied 1000 tombstones" in log
    assert "200 tombstones past 300 per hour or 1000 per pass" in log
