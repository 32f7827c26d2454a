"""``fastseg demo`` (``make run``): watch a node record, serve and cut a stream.

Starts a local live test stream (or records ``--url``), runs ``fastseg node``
on it, prints where to watch, then after ``--clip-after`` seconds adds and
edits an event for a 20-second clip, which the node's cutter cuts and
"uploads" into ``BASE/clips``. Prints the clip and the event's final state and
keeps everything running until Ctrl-C, then stops what it started.
"""

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

from services.common import times
from services.common.service import LOG_FORMAT, non_negative_seconds

logger = logging.getLogger(__name__)

CLIP_SECONDS = 20


def _fastseg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True, text=True, check=check, timeout=120,
    )  # fmt: skip


def _wait_for(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"fastseg demo: the node exited with {process.returncode}; see above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.loads(response.read()):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit(f"fastseg demo: nothing was recorded after {timeout:.0f} s ({url})")


def _qualities(port: int, channel: str) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/files/{channel}", timeout=5) as r:
        return json.loads(r.read())


def cut_a_clip(base: str, channel: str, quality: str, node: subprocess.Popen) -> dict:
    """Add and edit an event for the last complete 20 s, then follow it to its end."""
    end = times.utc_now() - dt.timedelta(seconds=10)
    start = end - dt.timedelta(seconds=CLIP_SECONDS)
    event_id = _fastseg("events", "add", "--base-dir", base, "--sheet-name", "demo").stdout.strip()
    _fastseg(
        "events", "edit", event_id, "--base-dir", base,
        "--video-start", start.isoformat(), "--video-end", end.isoformat(),
        "--title", "fastseg demo clip", "--channel", channel, "--quality", quality,
        "--location", "clips", "--editor", "demo@localhost",
    )  # fmt: skip
    print(f"event {event_id}: a {CLIP_SECONDS} s clip from {start:%H:%M:%S} UTC is EDITED")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and node.poll() is None:
        row = json.loads(_fastseg("events", "show", event_id, "--base-dir", base, "--json").stdout)
        # An error on an EDITED row is a cutter waiting (for video); UNEDITED means it gave up.
        if row["state"] in ("DONE", "UNEDITED"):
            break
        time.sleep(2)
    return row


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    from services.demo.source import LiveSource  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="fastseg demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-dir", default="demo-archive", help="where to record (default: %(default)s)"
    )
    parser.add_argument("--url", help="record this HLS master playlist instead of a test stream")
    parser.add_argument("--channel", default="demo", help="channel name (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="the node's HTTP port (default: %(default)s)"
    )
    parser.add_argument(
        "--clip-after",
        type=non_negative_seconds,
        default=60,
        help="seconds before the clip (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format=LOG_FORMAT)
    base = os.path.abspath(args.base_dir)
    os.makedirs(base, exist_ok=True)
    source = None if args.url else LiveSource().start()
    url = args.url or source.master_url
    command = [
        sys.executable, "-m", "services.node", "--base-dir", base, "--channel", args.channel,
        "--url", url, "--host", "127.0.0.1", "--port", str(args.port), "--name", "demo",
        "--location", f"clips=local:{base}/clips",
    ]  # fmt: skip
    # Its own session: a terminal's Ctrl-C is ours, and we stop the node with one SIGTERM.
    node = subprocess.Popen(command, start_new_session=True)
    web = f"http://127.0.0.1:{args.port}"
    try:
        _wait_for(f"{web}/files/{args.channel}", node, timeout=60)
        quality = sorted(_qualities(args.port, args.channel))[-1]
        print(f"\nrecording {url}\n  into {base}\n"
              f"  watch:   {web}/playlist/{args.channel}/{quality}.m3u8  (ffplay, VLC, mpv)\n"
              f"  edit:    {web}/editor\n  metrics: {web}/metrics\n")  # fmt: skip
        # The clip needs CLIP_SECONDS of recorded video ending 10 s ago.
        time.sleep(max(args.clip_after, CLIP_SECONDS + 15))
        row = cut_a_clip(base, args.channel, quality, node)
        error = f": {row['error']}" if row["error"] else ""
        print(f"\nevent {row['id']} is {row['state']}{error}")
        if row.get("video_link"):
            print(f"clip: {row['video_link']}")
        print("\nstill recording; Ctrl-C stops everything")
        node.wait()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        if node.poll() is None:
            node.send_signal(signal.SIGTERM)
            try:
                node.wait(90)
            except subprocess.TimeoutExpired:
                node.kill()
        if source is not None:
            source.stop()
    return 0
