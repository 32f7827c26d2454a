"""End to end: the downloader against a live origin that misbehaves in every way it knows.

Run with ``-s`` to see the figures (published vs recorded, playlist-to-final delay).
"""

import hashlib
import os
import signal
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.downloader.archive import archive
from tests.media import ffprobe_json
from tests.waiting import wait_until

FAST_TIMEOUTS = ["--soft-timeout", "1", "--hard-timeout", "4"]


def by_start(base, channel, quality):
    """{start: [SegmentInfo...]} of one quality's archive."""
    found = {}
    for seg in archive(base / channel / quality):
        found.setdefault(seg.start, []).append(seg)
    return found


def missing_full(origin, base, channel, published, qualities=None):
    """Published segments with no full file of the right content yet.

    ``qualities`` maps an origin variant to its quality directory when they differ.
    """
    missing = []
    for variant, segments in published.items():
        stored = by_start(base, channel, (qualities or {}).get(variant, variant))
        for p in segments.values():
            want = hashlib.sha256(p.data).digest()
            fulls = [s for s in stored.get(p.start, []) if s.type == "full"]
            if not any(s.hash == want for s in fulls):
                missing.append((variant, p.n))
    return missing


def snapshot(origin):
    with origin.lock:
        return {v: dict(segs) for v, segs in origin.published.items()}


def plays(path) -> float:
    info = ffprobe_json(path, "-show_entries", "format=duration:stream=codec_type")
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "video"], f"{path} has streams {kinds}"
    return float(info["format"]["duration"])


def metric_values(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    ]


@pytest.mark.slow
def test_fault_run_records_every_published_segment(
    make_origin, run_downloader, ts_stream, fmp4_stream
):
    origin = make_origin({"source": ts_stream, "fmp4": fmp4_stream}, window=6)
    d = run_downloader("chan", "--url", origin.master_url, "--metrics-port", "0", *FAST_TIMEOUTS)
    port = d.metrics_port()
    wait_until(lambda: len(archive(d.base)) >= 6, "the first segments", 30)

    # Every fault the origin knows, one at a time, each given a few segments to play out.
    stalled = "media playlist stalled: asking for a fresh one"
    expired = "media playlist URL expired: asking for a fresh one"
    faults = [  # (name, inject, log line each quality's worker shows when it has coped)
        ("segment 5xx", lambda: origin.segment_errors(2), None),
        ("reset midway", lambda: origin.reset_midway(1), None),
        ("slow first byte", lambda: origin.slow_first_byte(2.0), None),
        ("playlist 5xx", lambda: origin.playlist_errors(3), None),
        ("stalled playlist", origin.stall, stalled),
        ("listed twice", origin.duplicate, None),
        ("discontinuity", lambda: origin.discontinuity(5.0), None),
        ("skip ahead", lambda: origin.skip_ahead(3), None),
        ("reset midway twice", lambda: origin.reset_midway(2), None),
        ("slower than the hard timeout", lambda: origin.slow_first_byte(6.0), None),
        ("segment 5xx thrice", lambda: origin.segment_errors(3), None),
        ("empty body", origin.empty_body, None),
        ("playlist URLs expired", origin.expire, expired),
    ]
    stop = threading.Event()
    injected = {}
    for name, inject, coped in faults:
        seen = d.log.count(coped) if coped else 0
        injected[name] = inject()
        if coped:  # both qualities' workers must notice before anything else happens
            wait_until(lambda c=coped, s=seen: d.log.count(c) >= s + 2, f"{name}: {coped!r}", 30)
        stop.wait(3.5)
    stop.wait(5)
    published = snapshot(origin)

    wait_until(
        lambda: not missing_full(origin, d.base, "chan", published),
        "a full copy of every published segment",
        40,
        interval=0.5,
        detail=lambda: f"missing {missing_full(origin, d.base, 'chan', published)}\n{d.log}",
    )
    metrics = {
        name: metric_values(port, f"fastseg_downloader_{name}")
        for name in [
            "time_jumps_total", "playlist_errors_total", "segments_total",
            "segment_bytes_total", "latest_segment_timestamp_seconds", "time_skew_seconds",
        ]
    }  # fmt: skip
    assert d.stop() == 0, d.log

    files = archive(d.base)
    assert not [s for s in files if s.type == "temp"], "temp files left after a clean stop"
    # One full file per start time: retries, parallel attempts and overlapping workers
    # never made a second full copy.
    for variant in published:
        for start, segs in by_start(d.base, "chan", variant).items():
            fulls = [s for s in segs if s.type == "full"]
            assert len(fulls) <= 1, f"{variant} {start}: {fulls}"
    # Each file's name carries the hash of its bytes.
    for seg in files:
        with open(seg.path, "rb") as f:
            assert seg.hash == hashlib.sha256(f.read()).digest(), seg.path
    # A body cut short left a partial holding what arrived: a prefix of the segment.
    assert origin.cut_short, "the reset fault never fired"
    for variant, n in origin.cut_short:
        p = published[variant][n]
        partials = [s for s in by_start(d.base, "chan", variant)[p.start] if s.type == "partial"]
        assert partials, f"no partial beside {variant} segment {n}"
        for s in partials:
            with open(s.path, "rb") as f:
                head = f.read()
            assert 0 < len(head) < len(p.data)
            assert p.data.startswith(head)
    # Every file plays on its own (fMP4 files carry their init section).
    fulls = [s for s in files if s.type == "full"]
    with ThreadPoolExecutor(2) as pool:
        durations = list(pool.map(plays, [s.path for s in fulls]))
    assert all(x > 0.5 for x in durations)
    # An empty body was kept as suspect, and the retry got the full segment beside it.
    assert origin.empty_served, "the empty body fault never fired"
    for variant, n in origin.empty_served:
        types = {s.type for s in by_start(d.base, "chan", variant)[published[variant][n].start]}
        assert {"suspect", "full"} <= types
    # The worker that saw the clock jump stored what followed as suspect; the fresh
    # worker it asked for stored the same segments full.
    n = injected["discontinuity"]
    for variant in published:
        types = {s.type for s in by_start(d.base, "chan", variant)[published[variant][n].start]}
        assert {"suspect", "full"} <= types, f"{variant} segment {n} after the jump"

    # The faults took the paths meant for them.
    for sign in [
        "is slow: starting another attempt",  # slow first byte: soft timeout
        "attempt failed (timeout)",  # slower than the hard timeout
        "later segments are suspect",  # discontinuity with a time jump, skip ahead
        "HTTP 503",
        "HTTP 500",
    ]:
        assert sign in d.log
    assert sum(metrics["time_jumps_total"]) >= 2, "the discontinuity and skip were not jumps"
    assert sum(metrics["playlist_errors_total"]) >= 3
    assert sum(metrics["segments_total"]) >= len(fulls)
    assert sum(metrics["segment_bytes_total"]) >= sum(os.path.getsize(s.path) for s in fulls)
    assert len(metrics["latest_segment_timestamp_seconds"]) == 2  # one per quality
    assert len(metrics["time_skew_seconds"]) == 2

    delays = []
    for variant, segments in published.items():
        stored = by_start(d.base, "chan", variant)
        for p in segments.values():
            (full,) = [s for s in stored[p.start] if s.type == "full"]
            delays.append(os.stat(full.path).st_ctime - p.first_listed)
    total = sum(len(s) for s in published.values())
    print(
        f"\nfault run: {total} segments published, {len(fulls)} full files, "
        f"{total - len(missing_full(origin, d.base, 'chan', published))} published recorded full; "
        f"playlist-to-final delay median {statistics.median(delays):.3f} s, "
        f"max {max(delays):.3f} s over {len(delays)} segments"
    )


@pytest.mark.slow
def test_killed_and_restarted_downloader_resumes_without_duplicates(
    make_origin, run_downloader, ts_stream
):
    origin = make_origin({"source": ts_stream}, window=6)
    first = run_downloader("chan", "--url", origin.master_url, *FAST_TIMEOUTS)
    wait_until(lambda: len(archive(first.base)) >= 8, "eight segments", 30)
    first.stop(signal.SIGKILL)
    killed_at = time.time()
    stored_before = {s.start for s in archive(first.base) if s.type == "full"}
    last_listed = max(snapshot(origin)["source"])
    sessions_before = origin.sessions
    # The stream goes on for three segments while nothing records it. The origin's
    # window must cover that gap *and* however long the restarted process takes to
    # start (seconds on a loaded machine), so it keeps listing everything the killed
    # one may have been shown until the new one has read a playlist.
    origin.hold_window(last_listed + 1 - origin.window)
    wait_until(lambda: origin.published_count() >= last_listed + 4, "3 s", 10)
    # The restarted downloader reaches the origin by another name, so its requests
    # are told from the killed one's by their Host header, however late the origin
    # handled a request the killed process sent just before it died.
    second_host = f"localhost:{origin.server.server_port}"
    second = run_downloader("chan", "--url", f"http://{second_host}/master.m3u8", *FAST_TIMEOUTS)
    wait_until(
        lambda: any(
            path.startswith("/live/") and int(path.split("/")[2]) > sessions_before
            for _, path, status in list(origin.requests)
            if status == 200
        ),
        "the restarted downloader's first media playlist",
        60,
    )
    origin.release_window()
    wait_until(lambda: len(origin.published["source"]) >= 20, "twenty published segments", 30)
    published = snapshot(origin)
    wait_until(
        lambda: not missing_full(origin, second.base, "chan", published),
        "every published segment",
        30,
        interval=0.2,
    )
    assert second.stop() == 0, second.log
    for start, segs in by_start(second.base, "chan", "source").items():
        fulls = [s for s in segs if s.type == "full"]
        assert len(fulls) == 1, f"{start}: {segs}"
    # The only temp files are the killed process's orphans (the janitor's job).
    for seg in archive(second.base):
        if seg.type == "temp":
            assert os.stat(seg.path).st_mtime <= killed_at
    # Segments stored full before the kill were not fetched again after the restart.
    with origin.lock:
        requests = list(zip(origin.requests, origin.hosts, strict=True))
    refetched = [
        path
        for (_, path, _), host in requests
        if host == second_host
        and path.startswith("/seg/")
        and origin.start_of(int(path.rsplit("/", 1)[1].split(".")[0])) in stored_before
    ]
    assert any(host == second_host for _, host in requests), "the restart made no request"
    assert not refetched
