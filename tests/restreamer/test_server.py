"""The real restreamer: a subprocess on 127.0.0.1 (gevent-patched there, never here).

Real ffmpeg-made segments across an hour boundary, read back over HTTP, played
by ffmpeg's own HLS client, and the server stopped while a download is running.
"""

import datetime as dt
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys

import m3u8
import pytest
import requests

from tests.media import ffprobe_json
from tests.restreamer.conftest import REAL_START
from tests.restreamer.trees import make_tree
from tests.servers import ROOT, metric


def get(server, path, **kwargs):
    return requests.get(server.url + path, timeout=30, **kwargs)


def test_listings_match_the_tree(real_server, real_base):
    assert get(real_server, "/files").json() == ["test"]
    assert get(real_server, "/files/test").json() == ["low", "source"]
    hours = get(real_server, "/files/test/source").json()
    assert hours == ["2026-11-27T16", "2026-11-27T17"]
    for hour in hours:
        listed = get(real_server, f"/files/test/source/{hour}").json()
        assert listed == sorted(os.listdir(real_base / "test" / "source" / hour))


def test_segments_are_the_files_bytes(real_server, real_base):
    hour_dir = real_base / "test" / "source" / "2026-11-27T17"
    for path in sorted(hour_dir.iterdir()):
        response = get(real_server, f"/segments/test/source/2026-11-27T17/{path.name}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "video/MP2T"
        assert int(response.headers["Content-Length"]) == path.stat().st_size
        assert response.content == path.read_bytes()
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_range_requests_over_sendfile(tmp_path, make_server):
    """Offsets and lengths through the sendfile path, on a file larger than socket buffers."""
    base = tmp_path / "base"
    (path,) = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 1)
    data = os.urandom(5 * 1024 * 1024 + 17)
    path.write_bytes(data)
    server = make_server(base)
    url = "/segments/ch/q/2026-11-27T17/" + path.name
    assert get(server, url).content == data
    with requests.Session() as session:  # several answers down one keep-alive connection
        for first, last in [(0, 0), (1, 1024 * 1024), (4 * 1024 * 1024, len(data) - 1)]:
            response = session.get(server.url + url, headers={"Range": f"bytes={first}-{last}"})
            assert response.status_code == 206
            assert response.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
            assert response.content == data[first : last + 1]
        tail = session.get(server.url + url, headers={"Range": "bytes=-100"})
        assert tail.content == data[-100:]
        beyond = session.get(server.url + url, headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
    head = requests.head(server.url + url, timeout=30)
    assert head.headers["Content-Length"] == str(len(data))


def test_uncached_file_is_read_by_a_thread_not_the_loop(tmp_path, make_server):
    """sendfile would read an uncached file in the event loop's thread: a worker reads it first."""
    base = tmp_path / "base"
    (path,) = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 1)
    data = os.urandom(3 * 1024 * 1024)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # only clean pages can be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        try:
            os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)
            pytest.skip("this filesystem keeps the file cached (or cannot tell)")
        except BlockingIOError:
            pass  # evicted: the server will find it cold
    finally:
        os.close(fd)
    server = make_server(base, "--log-level", "DEBUG")
    assert get(server, "/segments/ch/q/2026-11-27T17/" + path.name).content == data
    server.wait_for_log(rf"reading {len(data)} bytes at 0 in a thread: not in the page cache")


def frames(path) -> int:
    info = ffprobe_json(path, "-count_packets", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_packets")  # fmt: skip
    return int(info["streams"][0]["nb_read_packets"])


def play(server, path, out) -> None:
    """Play a playlist with ffmpeg's HLS client, copying the streams into ``out``."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-i", server.url + path, "-c", "copy", str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def test_ffmpeg_plays_a_media_playlist(real_server, real_stream, tmp_path):
    start = (REAL_START + dt.timedelta(seconds=3)).isoformat()
    end = (REAL_START + dt.timedelta(seconds=15)).isoformat()
    # 3 s to 15 s falls in segments 1 to 7 (2 s each, across the 17:00 boundary)
    path = f"/playlist/test/source.m3u8?start={start}&end={end}"
    playlist = m3u8.loads(get(real_server, path).text)
    assert len(playlist.segments) == 7
    assert playlist.is_endlist
    assert playlist.target_duration == 2
    out = tmp_path / "out.ts"
    play(real_server, path, out)
    expected = sum(real_stream.durations[1:8])
    assert frames(out) == round(expected * real_stream.rate)
    duration = float(ffprobe_json(out, "-show_entries", "format=duration")["format"]["duration"])
    assert duration == pytest.approx(expected, abs=0.1)


def test_ffmpeg_plays_across_a_hole(real_server, real_stream, tmp_path):
    start = REAL_START.isoformat()
    end = (REAL_START + dt.timedelta(seconds=20)).isoformat()
    path = f"/playlist/test/low.m3u8?start={start}&end={end}"
    playlist = m3u8.loads(get(real_server, path).text)
    assert [s.discontinuity for s in playlist.segments] == [False] * 3 + [True] + [False] * 4
    assert playlist.is_endlist
    out = tmp_path / "out.ts"
    play(real_server, path, out)
    present = [d for i, d in enumerate(real_stream.durations) if i not in (3, 4)]
    assert frames(out) == round(sum(present) * real_stream.rate)


def test_master_playlist_over_http(real_server):
    hole = (REAL_START + dt.timedelta(seconds=7)).isoformat()
    both = m3u8.loads(get(real_server, f"/playlist/test.m3u8?start={hole}&end={hole}").text)
    assert [p.uri.split("?")[0] for p in both.playlists] == ["/playlist/test/source.m3u8"]
    whole = m3u8.loads(get(real_server, "/playlist/test.m3u8").text)
    assert sorted(p.uri for p in whole.playlists) == [
        "/playlist/test/low.m3u8",
        "/playlist/test/source.m3u8",
    ]
    assert all(p.stream_info.bandwidth > 10_000 for p in whole.playlists)


def raw_request(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(1 << 16):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_identical_concurrent_playlists_are_computed_once(real_server):
    start = REAL_START.isoformat()
    end = (REAL_START + dt.timedelta(seconds=19)).isoformat()
    path = f"/playlist/test/source.m3u8?start={start}&end={end}"
    before = get(real_server, "/metrics").text
    # Freeze the server while the requests arrive, so that they are all waiting
    # when it resumes: the first computation yields between hours, and the
    # others, already read by then, find it in flight.
    real_server.proc.send_signal(signal.SIGSTOP)
    try:
        socks = [raw_request(real_server.port, path) for _ in range(8)]
    finally:
        real_server.proc.send_signal(signal.SIGCONT)
    answers = [read_all(s) for s in socks]
    bodies = {a.split(b"\r\n\r\n", 1)[1] for a in answers}
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
    assert len(bodies) == 1
    assert len(m3u8.loads(bodies.pop().decode()).segments) == 10
    after = get(real_server, "/metrics").text
    name = "fastseg_restreamer_playlist_computations_total"
    assert metric(after, name, kind="media") - metric(before, name, kind="media") == 1
    shared = "fastseg_restreamer_playlist_shared_total"
    assert metric(after, shared, kind="media") - metric(before, shared, kind="media") == 7


def test_metrics_over_http(real_server):
    get(real_server, "/files/.nope")
    text = get(real_server, "/metrics").text
    assert metric(text, "fastseg_restreamer_requests_total", endpoint="listings.qualities",
                  method="GET", status="400") >= 1  # fmt: skip
    assert "fastseg_restreamer_request_duration_seconds_bucket" in text


@pytest.mark.parametrize(
    "path",
    [
        "/segments/test/source/../../../../etc/passwd",
        "/segments/test/..%2F..%2Foutside/2026-11-27T16/{name}",
        "/segments/..%2Foutside/q/2026-11-27T16/{name}",
        "/segments/%2E%2E/outside/q/2026-11-27T16/{name}",
        "/files/..",
        "/files/%2e%2e",
        "/files/test/source/..%2F..%2F..",
        "/files/test%00/source",
        "/playlist/..%2Foutside/q.m3u8",
        "http://127.0.0.1/../outside",
        "../outside",
        "/segments/test/source/2026-11-27T16/..%2F..%2F..%2F..%2Foutside%2Fq%2F2026-11-27T16%2F{name}",
    ],
)
def test_no_path_escapes_base(real_server, real_base, path):
    """Whatever the raw request line says, nothing outside BASE is read, and no 5xx."""
    outside = real_base.parent / "outside" / "q" / "2026-11-27T16"
    outside.mkdir(parents=True, exist_ok=True)
    secret = b"SECRET outside the archive"
    name = f"00:00-2-full-{hashlib.sha256(secret).hexdigest()[:42]}A.ts"
    (outside / name).write_bytes(secret)
    answer = read_all(raw_request(real_server.port, path.format(name=name)))
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer
    assert secret not in answer


def test_sigterm_lets_a_long_download_finish(tmp_path, make_server):
    base = tmp_path / "base"
    size = 256 * 1024 * 1024  # sparse: no disk, but far more than the socket buffers hold
    (path,) = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 1, size=size)
    server = make_server(base, "--stop-timeout", "120")
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    idle.request("GET", "/files")  # a keep-alive connection, idle from now on
    assert json.loads(idle.getresponse().read()) == ["ch"]

    sock = raw_request(server.port, f"/segments/ch/q/2026-11-27T17/{path.name}")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1 << 16)
    headers, received = head.split(b"\r\n\r\n", 1)
    assert f"Content-Length: {size}".encode() in headers
    server.proc.send_signal(signal.SIGTERM)
    server.wait_for_log(r"stopped accepting; closed 1 idle connections, waiting up to 120\.0s "
                        r"for 1 responses")  # fmt: skip
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port))
    total = len(received)
    while chunk := sock.recv(1 << 20):
        total += len(chunk)
    sock.close()
    assert total == size
    assert server.proc.wait(60) == 0
    # The idle connection was closed by the server: the next request on it fails.
    idle.sock.settimeout(30)
    assert idle.sock.recv(1) == b""
    idle.close()


def test_stop_timeout_bounds_a_stalled_download(tmp_path, make_server):
    base = tmp_path / "base"
    size = 256 * 1024 * 1024
    (path,) = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 1, size=size)
    server = make_server(base, "--stop-timeout", "0.5")
    sock = raw_request(server.port, f"/segments/ch/q/2026-11-27T17/{path.name}")
    assert sock.recv(1 << 16).startswith(b"HTTP/1.1 200")  # then never read again
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(60) == 1  # not every response finished
    assert "connections still busy after 0.5s: closing them" in server.log()
    sock.close()


def test_command_line_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "services.restreamer", *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip

    missing = run("--base-dir", str(tmp_path / "missing"))
    assert missing.returncode == 2
    assert "is not a directory: give the archive root" in missing.stderr
    port = run("--base-dir", str(tmp_path), "--port", "70000")
    assert port.returncode == 2
    assert "--port 70000 is not a TCP port" in port.stderr
    cli = subprocess.run([sys.executable, "-m", "services.cli", "restreamer", "--help"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert cli.returncode == 0
    assert "--stop-timeout" in cli.stdout
