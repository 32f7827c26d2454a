"""Two nodes on one database: record, backfill, cut and upload, end to end.

A live ffmpeg source runs; node A records it; node B (its own archive, A's
database) starts later, backfills what it missed from A, and cuts an event
whitelisted for it out of that backfilled stretch. Everything is real: ffmpeg,
PostgreSQL, HTTP on loopback, each node a `python -m services.node` process.
"""

import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from services.demo.source import LiveSource
from tests.media import ffprobe_json
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(name, base, dsn, url, port, *extra):
    base.mkdir(parents=True, exist_ok=True)
    with open(base.parent / f"{name}.log", "w") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "services.node", "--base-dir", str(base), "--channel", "demo",
             "--url", url, "--db", dsn, "--host", "127.0.0.1", "--port", str(port),
             "--name", name, "--advertise", f"http://127.0.0.1:{port}", "--recent-cutoff", "4",
             "--backfill-interval", "3", *extra],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(process):
    process.send_signal(signal.SIGTERM)
    return process.wait(90)


def events(dsn, *args):
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "events", *args, "--db", dsn],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout


def full_segments(base: Path) -> dict[str, str]:
    """name -> quality of every full segment in an archive."""
    return {p.name: p.parent.parent.name for p in base.glob("demo/*/*/*-full-*.ts")}


def test_two_nodes_record_backfill_and_cut(tmp_path, pg_dsn):
    base_a, base_b = tmp_path / "a", tmp_path / "b"
    port_a, port_b = free_port(), free_port()
    with LiveSource() as source:
        a = start_node("A", base_a, pg_dsn, source.master_url, port_a)
        b = None
        try:
            wait_until(lambda: len(full_segments(base_a)) >= 2 * 12, "A to record 24 s", 90, 1)
            began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            b = start_node("B", base_b, pg_dsn, source.master_url, port_b,
                           "--location", f"clips=local:{tmp_path / 'clips'}")  # fmt: skip
            # A clip from before B existed: B can only cut it after backfilling it.
            clip_end = began - dt.timedelta(seconds=6)
            clip_start = clip_end - dt.timedelta(seconds=10)
            event = events(pg_dsn, "add", "--sheet-name", "e2e").strip()
            # An edit names a location a running cutter serves: B's, once it has started
            # (checking every service's options, then each applying the schema: at load
            # 10 on two cores that took over a minute once).
            wait_until(lambda: "clips" in events(pg_dsn, "locations"), "B's cutter", 180, 0.5)
            events(
                # Checked against A's archive: B has not backfilled the range yet.
                pg_dsn, "edit", event, "--base-dir", str(base_a),
                "--video-start", clip_start.isoformat(),
                "--video-end", clip_end.isoformat(), "--title", "e2e clip", "--channel", "demo",
                "--quality", "360p", "--location", "clips", "--uploader-whitelist", "B",
                "--editor", "e2e@localhost",
            )  # fmt: skip

            def done():
                row = json.loads(events(pg_dsn, "show", event, "--json"))
                assert row["state"] != "UNEDITED", row["error"]
                return row if row["state"] == "DONE" else None

            row = wait_until(done, "B to cut and upload the event", 120, 1)
            assert row["uploader"] == "B"
            clip = Path(urllib.request.url2pathname(row["video_link"].removeprefix("file://")))
            probe = ffprobe_json(clip, "-show_entries", "format=duration:stream=codec_type")
            assert abs(float(probe["format"]["duration"]) - 10) <= 1 / 30 + 0.03
            assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}

            # A serves the same range as HLS that ffmpeg reads back.
            out = tmp_path / "from-a.ts"
            playlist = (f"http://127.0.0.1:{port_a}/playlist/demo/360p.m3u8"
                        f"?start={clip_start.isoformat()}&end={clip_end.isoformat()}")  # fmt: skip
            subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", playlist, "-c", "copy",
                            str(out)], check=True, timeout=60)  # fmt: skip
            assert (
                float(ffprobe_json(out, "-show_entries", "format=duration")["format"]["duration"])
                >= 10
            )

            # B backfilled everything A had before it started.
            before_b = {n: q for n, q in full_segments(base_a).items()}
            wait_until(
                lambda: before_b.items() <= full_segments(base_b).items(),
                "B to backfill every segment A recorded before it", 60, 1,
            )  # fmt: skip
        finally:
            codes = [stop(p) for p in (a, b) if p is not None]
    assert codes == [0] * len(codes)
    # Same stream, same names: what both nodes hold is the same by hash.
    common = full_segments(base_a).keys() & full_segments(base_b).keys()
    assert len(common) >= len(before_b)
