"""Costly routes under attack: cuts, frames and waveforms cannot exhaust the restreamer.

A real restreamer (``python -m services.restreamer``) serves a 20-second 320x180
archive; its ffmpeg children are counted from /proc while attackers ask for
more than it may do. Clients come from several loopback addresses (127.0.0.N)
so the per-client cap and the pool can be told apart.
"""

import datetime as dt
import http.client
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import processes
from tests.hostile.watch import error_records, fd_count, files_under, rss_kib
from tests.media import ffprobe_json, store_stream
from tests.servers import ServerProcess
from tests.waiting import wait_until

START = dt.datetime(2026, 11, 27, 16, 59, 52)  # the archive straddles an hour boundary
TOKEN = "hostile-costly-editor-token"
EDITOR = {"Authorization": f"Bearer {TOKEN}"}
POOL, PER_CLIENT = 3, 2
#: A token holder's cut that keeps x264 busy for seconds before its first byte.
SLOW = "preset=veryslow,crf=0,width=1280,height=720"


def stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="milliseconds")


def cut_path(seconds: float = 4, quality: str = "source", **params: str) -> str:
    query = {"start": stamp(START + dt.timedelta(seconds=1)),
             "end": stamp(START + dt.timedelta(seconds=1 + seconds)), **params}  # fmt: skip
    return f"/cut/test/{quality}.ts?" + "&".join(f"{k}={v}" for k, v in query.items())


def get(server: ServerProcess, path: str, client: str = "127.0.0.1", headers=None,
        timeout: float = 60) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """GET from the address ``client``: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout,
                                      source_address=(client, 0))  # fmt: skip
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def ffmpegs(pid: int, names=("ffmpeg", "ffprobe")) -> list[processes.Proc]:
    """The server's ffmpeg and ffprobe children now."""
    return [p for p in processes.descendants(pid)
            if p.cmdline.split(" ", 1)[0] in names and p.state != "Z"]  # fmt: skip


class ChildCounter:
    """The most ffmpeg children the server had at once, sampled every 5 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.most = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.most = max(self.most, len(ffmpegs(self.pid)))
            self._done.wait(0.005)

    def __enter__(self) -> "ChildCounter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


@pytest.fixture(scope="module")
def base(stream_factory, tmp_path_factory):
    stream = stream_factory(seconds=20, size="320x180")
    base = tmp_path_factory.mktemp("costly_base")
    store_stream(stream, base, "test", "source", START)
    return base


@pytest.fixture(scope="module")
def token_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("costly_tokens") / "editors.txt"
    path.write_text(f"{TOKEN} editor@example.org\n")
    return path


@pytest.fixture(scope="module")
def victim(base, token_file):
    """A restreamer with a pool of 3 jobs, 2 per client."""
    server = ServerProcess(base, "--editor-token-file", str(token_file), "--metrics-port", "0",
                           "--ffmpeg-jobs", str(POOL), "--ffmpeg-jobs-per-client",
                           str(PER_CLIENT))  # fmt: skip
    before = files_under(base)
    yield server
    server.stop()
    written = {p for p in files_under(base) - before if p.parts[0] != ".fastseg"}
    assert not written, f"the attacks wrote into the archive: {sorted(written)}"
    assert error_records(server.log()) == []


def assert_still_serving(server: ServerProcess) -> None:
    """A normal client is answered within 5 s; memory and descriptors stay bounded."""
    began = time.monotonic()
    status, _, body = get(server, "/files/test/source", client="127.0.0.250", timeout=5)
    assert status == 200
    assert b"2026-11-27T16" in body
    assert time.monotonic() - began < 5
    assert rss_kib(server.proc.pid) < 400 * 1024
    assert fd_count(server.proc.pid) < 200


@pytest.mark.slow
def test_more_cuts_than_the_pool_are_refused_at_once(victim):
    """Eight clients ask for a costly cut each: at most POOL ffmpegs ever run, the rest 503."""
    clients = [f"127.0.0.{n}" for n in range(10, 18)]
    with ChildCounter(victim.proc.pid) as counter, ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(
            lambda c: get(victim, cut_path(type="full", encoding="preset=slower,crf=10"), c,
                          EDITOR), clients))  # fmt: skip
        assert_still_serving(victim)
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses, statuses
    assert 503 in statuses, statuses
    for status, headers, body in answers:
        if status == 503:
            assert headers["Retry-After"] == "5"
            assert b"this restreamer runs its most ffmpegs at once (3)" in body
    assert 1 <= counter.most <= POOL
    assert victim.metric("fastseg_restreamer_ffmpeg_refused_total", route="cut", reason="busy")
    wait_until(lambda: victim.metric("fastseg_restreamer_ffmpeg_jobs") == 0, "jobs to end", 30)


@pytest.mark.slow
def test_one_client_gets_two_jobs_at_most(victim):
    """Four cuts at once from one address: two run, two are 429 with Retry-After."""
    with ChildCounter(victim.proc.pid) as counter, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda _: get(victim, cut_path(type="full", encoding="preset=slower,crf=10"),
                          "127.0.0.20", EDITOR), range(4)))  # fmt: skip
        # another client still gets its frame meanwhile
        status, _, _ = get(victim, f"/frame/test/source.png?timestamp={stamp(START)}",
                           "127.0.0.21")  # fmt: skip
        assert status == 200
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(200) >= PER_CLIENT - 1, statuses
    assert 429 in statuses, statuses
    for status, headers, body in answers:
        if status == 429:
            assert headers["Retry-After"] == "5"
            assert b"you already have 2 ffmpeg jobs running here" in body
    assert counter.most <= POOL
    assert victim.metric("fastseg_restreamer_ffmpeg_refused_total", route="cut",
                         reason="client_busy")  # fmt: skip


@pytest.mark.slow
def test_twenty_frames_at_once_start_no_more_ffmpegs_than_the_pool(victim):
    clients = [f"127.0.1.{n}" for n in range(20)]
    paths = [f"/frame/test/source.png?timestamp={stamp(START + dt.timedelta(seconds=n % 18))}"
             for n in range(20)]  # fmt: skip
    with ChildCounter(victim.proc.pid) as counter, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(get, [victim] * 20, paths, clients))
        assert_still_serving(victim)
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses
    assert 1 <= counter.most <= POOL
    assert all(headers["Retry-After"] == "5" for status, headers, _ in answers if status == 503)


def test_a_client_that_leaves_before_the_first_byte_stops_its_ffmpeg(victim):
    """Closing the socket while x264 is still warming up kills ffmpeg within 3 s."""
    request = f"GET {cut_path(18, type='full', encoding=SLOW)} HTTP/1.1\r\n"
    request += f"Host: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", victim.port), source_address=("127.0.0.30", 0))
    try:
        sock.sendall(request.encode())
        started = wait_until(lambda: ffmpegs(victim.proc.pid), "ffmpeg to start", 30, 0.01)
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.recv(1)  # nothing sent yet: ffmpeg has no output
    finally:
        sock.close()
    left = time.monotonic()
    wait_until(lambda: not any(processes.alive(p) for p in started), "ffmpeg to die", 10, 0.02)
    assert time.monotonic() - left < 3
    assert victim.metric("fastseg_restreamer_ffmpeg_stopped_total", route="cut",
                         reason="client_gone") == 1  # fmt: skip
    assert_still_serving(victim)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        pytest.param({"type": "full"}, b"a full cut without a preset needs an editor's token",
                     id="full"),  # fmt: skip
        pytest.param({"type": "full", "encoding": "preset=veryslow,width=7680,height=4320"},
                     b"needs an editor's token: no Authorization header", id="8K"),  # fmt: skip
        pytest.param({"type": "mpegts", "encoding": "video_codec=libaom-av1,crf=0"},
                     b"anyone may give encoding=PRESET, one of source, 1080p", id="av1"),
    ],
)  # fmt: skip
def test_anonymous_clients_get_presets_only(victim, params, reason):
    status, headers, body = get(victim, cut_path(**params), "127.0.0.40")
    assert status == 401, body
    assert reason in body, body
    assert not ffmpegs(victim.proc.pid)


def test_a_preset_never_upscales(victim, tmp_path):
    status, _, body = get(victim, cut_path(type="full", encoding="1080p"), "127.0.0.41")
    assert status == 200
    (tmp_path / "cut.ts").write_bytes(body)
    info = ffprobe_json(tmp_path / "cut.ts", "-select_streams", "v:0",
                        "-show_entries", "stream=width,height")  # fmt: skip
    assert (info["streams"][0]["width"], info["streams"][0]["height"]) == (320, 180)


@pytest.mark.parametrize(
    ("encoding", "reason"),
    [
        pytest.param("width=7680,height=4320", b"is larger than 3840x2160", id="8K"),
        pytest.param(
            "video_codec=nosuchencoder",
            b"is not a video encoder this ffmpeg has",
            id="unknown encoder",
        ),  # fmt: skip
        pytest.param("audio_codec=libx264", b"'libx264' is not an audio encoder", id="wrong kind"),
        pytest.param("video_bitrate=900M", b"is above 100M", id="bitrate"),
        pytest.param("crf=-1", b"is not a whole number from 0 to 51", id="malformed"),
    ],
)
def test_an_editors_bad_encoding_is_a_400_before_anything_runs(victim, encoding, reason):
    refused = victim.metric("fastseg_restreamer_ffmpeg_refused_total", route="cut",
                            reason="encoding")  # fmt: skip
    with ChildCounter(victim.proc.pid) as counter:
        status, _, body = get(victim, cut_path(type="full", encoding=encoding), "127.0.0.42",
                              EDITOR)  # fmt: skip
    assert status == 400, body
    assert reason in body, body
    assert counter.most == 0
    assert victim.metric("fastseg_restreamer_ffmpeg_refused_total", route="cut",
                         reason="encoding") == refused + 1  # fmt: skip


def test_an_encoder_failing_at_start_is_a_clean_4xx(victim):
    """An option ffmpeg refuses only once it runs: its error before the status line."""
    status, _, body = get(victim, cut_path(type="full", encoding="video_codec=h263"),
                          "127.0.0.43", EDITOR)  # fmt: skip
    assert status == 422, body
    assert b"cannot make a full cut of this range: full cut to ts failed" in body


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        pytest.param(
            cut_path(3 * 3600, type="full", encoding="720p"),
            b"a full cut is at most 2:00:00 long",
            id="full",
        ),  # fmt: skip
        pytest.param(cut_path(7 * 3600, type="fast"), b"a fast cut is at most 6:00:00", id="fast"),
        pytest.param(cut_path(25 * 3600), b"a rough cut is at most 1 day, 0:00:00", id="rough"),
        pytest.param(
            f"/waveform/test/source.png?start={stamp(START)}"
            f"&end={stamp(START + dt.timedelta(hours=3))}",
            b"longer than the 2:00:00 allowed",
            id="waveform",
        ),  # fmt: skip
    ],
)
def test_ranges_over_the_maximum_are_refused(victim, path, reason):
    status, _, body = get(victim, path, "127.0.0.44", EDITOR)
    assert status == 400, body
    assert reason in body, body
    assert victim.metric("fastseg_restreamer_ffmpeg_refused_total", reason="range")


def test_the_waveform_of_an_hour_is_decoded_once(victim, base):
    path = (f"/waveform/test/source.png?start={stamp(START)}"
            f"&end={stamp(START + dt.timedelta(seconds=20))}&size=200x20")  # fmt: skip
    status, _, first = get(victim, path, "127.0.0.50")
    assert status == 200
    cached = files_under(base / ".fastseg" / "waveforms")
    assert len(cached) == 2  # the hours 16
    assert 17
    hits = victim.metric("fastseg_restreamer_waveform_cache_total", result="hit")
    with ChildCounter(victim.proc.pid) as counter:
        status, _, second = get(victim, path, "127.0.0.50")
    assert status == 200
    assert second == first
    assert counter.most == 0  # no ffmpeg: both hours read from the cache
    assert victim.metric("fastseg_restreamer_waveform_cache_total", result="hit") == hits + 2


def limited_server(base, token_file, *options: str) -> ServerProcess:
    return ServerProcess(base, "--editor-token-file", str(token_file), "--metrics-port", "0",
                         *options)  # fmt: skip


@pytest.mark.slow
def test_an_encode_over_the_memory_limit_ends_cleanly(base, token_file):
    server = limited_server(base, token_file, "--ffmpeg-memory-mb", "700")
    try:
        # x264 veryslow at 4K needs well over 700 MB of address space: refused by the limit
        status, _, body = get(server, cut_path(type="full", encoding="width=3840,height=2160"),
                              headers=EDITOR)  # fmt: skip
        assert status == 422, body
        assert b"needs more than the 700 MiB a job may use" in body
        # a small encode fits (about 600 MB)
        status, _, _ = get(server, cut_path(type="full", encoding="source"))
        assert status == 200
        assert server.metric("fastseg_restreamer_ffmpeg_stopped_total", route="cut",
                             reason="memory") == 1  # fmt: skip
        assert not ffmpegs(server.proc.pid)
        assert_still_serving(server)
    finally:
        server.stop()
    assert error_records(server.log()) == []


@pytest.mark.slow
def test_a_job_over_its_time_limit_is_stopped(base, token_file):
    server = limited_server(base, token_file, "--ffmpeg-timeout", "2")
    try:
        # lossless x264 veryslow at 720p: many seconds of encoding. It is stopped after
        # 2 s: a 503 if no byte was sent yet, else the connection is dropped (the
        # client sees the body cut off, never a whole-looking cut)
        began = time.monotonic()
        try:
            status, headers, body = get(server, cut_path(18, type="full", encoding=SLOW),
                                        headers=EDITOR)  # fmt: skip
        except http.client.IncompleteRead:
            pass
        else:
            assert status == 503, body
            assert b"took longer than its 2 s limit" in body
            assert headers["Retry-After"] == "5"
        assert time.monotonic() - began < 10
        assert server.metric("fastseg_restreamer_ffmpeg_stopped_total", route="cut",
                             reason="timeout") == 1  # fmt: skip
        wait_until(lambda: not ffmpegs(server.proc.pid), "ffmpeg to be reaped", 5)
        assert_still_serving(server)
    finally:
        server.stop()
    assert error_records(server.log()) == []


@pytest.mark.slow
def test_stopping_the_server_kills_its_ffmpegs(base, token_file):
    """SIGTERM: the drain waits 1 s for the cut, then its ffmpeg is killed and reaped."""
    server = ServerProcess(base, "--editor-token-file", str(token_file), "--stop-timeout", "1")
    sock = socket.create_connection(("127.0.0.1", server.port))
    try:
        request = f"GET {cut_path(18, type='full', encoding=SLOW)} HTTP/1.1\r\n"
        sock.sendall(f"{request}Host: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode())
        wait_until(lambda: ffmpegs(server.proc.pid, ("ffmpeg",)), "ffmpeg to start", 30, 0.01)
        with processes.TreeWatcher(server.proc.pid) as watcher:
            server.proc.send_signal(signal.SIGTERM)
            server.wait(15)
        assert any(name.startswith("ffmpeg ") for name in watcher.names())
        assert watcher.survivors() == []
    finally:
        sock.close()
        server.stop()
    assert error_records(server.log()) == []
