"""``fastseg demo`` (``make run``): watch a node record, serve and cut a stream.

Starts a local live test stream (or records ``--url``), runs ``fastseg node``
on it, and prints where to watch and edit, with an editor token made for the
person running it (kept in ``BASE/.demo/editors.txt``). After ``--clip-after``
seconds it adds and edits an event for a 20-second clip through the events
API with that token, as the editor page does; the node's cutter cuts it into
``BASE/.demo/clips`` (hidden, so it is no channel), which the node serves under
``/clips/``. Prints the clip's http link and the event's final state and keeps
everything running until Ctrl-C, then stops what it started.
"""

import datetime as dt
import getpass
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from services.archive import times
from services.runtime.children import on_parent_death
from services.runtime.service import LOG_FORMAT, non_negative_seconds

logger = logging.getLogger(__name__)

CLIP_SECONDS = 20
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def editor_token(path: str) -> tuple[str, str]:
    """``(token, email)`` of the person running the demo, made once and kept in ``path``."""
    try:
        with open(path) as f:
            token, email = f.read().split()[:2]
            return token, email
    except (OSError, ValueError):
        pass
    user = "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "editor"
    token, email = secrets.token_hex(16), f"{user}@localhost"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a secret: ours alone
    with os.fdopen(fd, "w") as f:
        f.write(f"{token} {email}\n")
    return token, email


def api(web: str, path: str, token: str | None = None, body: dict | None = None):
    """A request to the node's events API; a refusal ends the demo with the API's reason."""
    request = urllib.request.Request(web + path, method="GET" if body is None else "POST")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        reason = json.loads(exc.read() or b"{}").get("error", exc.reason)
        raise SystemExit(f"fastseg demo: {path} refused: {reason}") from None


class _Stop(KeyboardInterrupt):
    """A stop signal, raised in the demo's main greenlet wherever it is waiting."""


class _StopSignals:
    """SIGINT and SIGTERM raise :class:`_Stop` in the main greenlet; once stopping, they wait.

    Raised from a plain ``signal.signal`` handler, the exception would land in
    gevent's hub (which prints it as a crash), so it is thrown from the hub's loop
    into the greenlet that installed this instead.
    """

    def __init__(self):
        import gevent  # noqa: PLC0415 - the demo runs patched, like every service

        self.stopping = False
        self._main = gevent.getcurrent()
        self._hub = gevent.get_hub()
        self._watchers = [gevent.signal_handler(s, self._on_signal) for s in STOP_SIGNALS]

    def _on_signal(self) -> None:
        if self.stopping:
            print("already stopping: waiting for the node to finish", file=sys.stderr, flush=True)
            return
        self.stopping = True
        self._hub.loop.run_callback(self._main.throw, _Stop())

    def close(self) -> None:
        for watcher in self._watchers:
            watcher.cancel()


def _probe(url: str) -> str | None:
    """Why ``url`` cannot be fetched, or None when it can."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read(1)
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code} {e.reason}"
    except (OSError, ValueError) as e:
        return str(getattr(e, "reason", None) or e)
    return None


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
    raise SystemExit(f"fastseg demo: nothing was recorded after {timeout:.0f} s ({url}): see above")


def _qualities(port: int, channel: str) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/files/{channel}", timeout=5) as r:
        return json.loads(r.read())


def cut_a_clip(web: str, token: str, channel: str, quality: str, node: subprocess.Popen) -> dict:
    """Add and edit an event for the last complete 20 s through the API, then follow it."""
    end = times.utc_now() - dt.timedelta(seconds=10)
    start = end - dt.timedelta(seconds=CLIP_SECONDS)
    event_id = api(web, "/api/events", token, {"sheet_name": "demo"})["id"]
    # The cutter records its upload locations when it starts: wait for it to be up.
    deadline = time.monotonic() + 60
    while not any(loc["name"] == "clips" for loc in api(web, "/api/locations")):
        if time.monotonic() > deadline or node.poll() is not None:
            raise SystemExit("fastseg demo: the node's cutter never served location 'clips'")
        time.sleep(1)
    edit = {
        "video_start": start.isoformat(), "video_end": end.isoformat(),
        "video_title": "fastseg demo clip", "video_channel": channel, "video_quality": quality,
        "upload_location": "clips",
    }  # fmt: skip
    api(web, f"/api/events/{event_id}/edit", token, edit)
    print(f"event {event_id}: a {CLIP_SECONDS} s clip from {start:%H:%M:%S} UTC is EDITED")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and node.poll() is None:
        row = api(web, f"/api/events/{event_id}")
        # An error on an EDITED row is a cutter waiting (for video); UNEDITED means it gave up.
        if row["state"] in ("DONE", "UNEDITED"):
            break
        time.sleep(2)
    return row


class _Started:
    """What the demo started, so that one clean-up stops exactly that."""

    source = None
    node: subprocess.Popen | None = None

    def stop(self) -> None:
        """SIGTERM the node (it stops its services and the embedded database), then the source."""
        node = self.node
        if node is not None and node.poll() is None:
            node.send_signal(signal.SIGTERM)
            try:
                node.wait(90)
            except subprocess.TimeoutExpired:
                logger.error("the node did not stop in 90 s: killing it")
                node.kill()
                node.wait()
        if self.source is not None:
            self.source.stop()


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

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
    started = _Started()
    signals = _StopSignals()
    try:
        return _run(args, started)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM
        print("\nstopping", flush=True)
        signals.stopping = True
        return 0
    finally:
        signals.stopping = True  # more signals now only say that it is stopping
        try:
            while True:
                try:
                    started.stop()  # idempotent: a signal thrown in just as it began repeats it
                    break
                except KeyboardInterrupt:
                    continue
        finally:
            signals.close()


def _run(args, started: _Started) -> int:
    from services.demo.source import LiveSource  # noqa: PLC0415

    if args.url:
        problem = _probe(args.url)
        if problem:
            print(f"fastseg demo: cannot reach --url {args.url!r} ({problem}): the URL is "
                  "probably wrong; give an HLS master playlist, or no --url for a test stream",
                  file=sys.stderr)  # fmt: skip
            return 2
    base = os.path.abspath(args.base_dir)
    os.makedirs(base, exist_ok=True)
    # Hidden inside BASE: the demo's own files are no channel of the archive.
    own = os.path.join(base, ".demo")
    clips = os.path.join(own, "clips")
    token, email = editor_token(os.path.join(own, "editors.txt"))
    web = f"http://127.0.0.1:{args.port}"
    if args.url:
        url = args.url
    else:
        started.source = LiveSource()
        url = started.source.start().master_url
    command = [
        sys.executable, "-m", "services.node", "--base-dir", base, "--channel", args.channel,
        "--url", url, "--host", "127.0.0.1", "--port", str(args.port), "--name", "demo",
        "--editor-token-file", os.path.join(own, "editors.txt"), "--clips-dir", clips,
        "--location", f"clips=local:{clips};url={web}/clips/",
    ]  # fmt: skip
    # Its own session: a terminal's Ctrl-C is ours, and we stop the node with one SIGTERM
    # (sent by the kernel if we are killed outright: the node then stops its database).
    node = started.node = subprocess.Popen(
        command, start_new_session=True, preexec_fn=on_parent_death(signal.SIGTERM)
    )
    _wait_for(f"{web}/files/{args.channel}", node, timeout=60)
    quality = sorted(_qualities(args.port, args.channel))[-1]
    print(f"\nrecording {url}\n  into {base}\n"
          f"  watch:   {web}/playlist/{args.channel}/{quality}.m3u8  (ffplay, VLC, mpv)\n"
          f"  edit:    {web}/editor\n"
          f"  editor token for {email}: {token}  (paste it into the page's token field)\n"
          f"  clips:   {web}/clips/  (in {clips})\n"
          f"  metrics: {web}/metrics\n", flush=True)  # fmt: skip
    # The clip needs CLIP_SECONDS of recorded video ending 10 s ago.
    time.sleep(max(args.clip_after, CLIP_SECONDS + 15))
    row = cut_a_clip(web, token, args.channel, quality, node)
    error = f": {row['error']}" if row["error"] else ""
    print(f"\nevent {row['id']} is {row['state']}{error}")
    if row.get("video_link"):
        print(f"clip: {row['video_link']}")
    print("\nstill recording; Ctrl-C stops everything", flush=True)
    node.wait()
    return 0
