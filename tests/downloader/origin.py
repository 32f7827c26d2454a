"""A local live HLS origin for the downloader tests, with faults on demand.

It replays a finite set of real ffmpeg-made segments (``tests.media.Stream``) as an
endless live stream: segment ``n`` carries the bytes of stream segment ``n % len``,
media sequence ``n`` and a program-date-time that advances by each segment's
EXTINF. A master playlist lists two variants (MPEG-TS, and fMP4 with an
``EXT-X-MAP`` init section, or whatever streams the test gives). Each master fetch
opens a new *session*: its media playlist URLs carry the session number, so a
stalled session stays stalled while a re-fetched master gets a live one.

It runs a real HTTP/1.1 server on 127.0.0.1 in a thread of the test process; the
downloader under test is a subprocess. It remembers what it published (every
segment that appeared in a served media playlist, with when it first appeared),
which is what the tests compare the archive against.

Faults (each applies to the next segment(s) to be published unless told otherwise):
``playlist_errors(k)`` 5xx on the next k media playlist requests; ``segment_errors(k)``
5xx on the first k requests of the next segment; ``slow_first_byte(s)`` delays the
next segment's response; ``reset_midway(k)`` cuts the first k responses of the next
segment halfway through the body with a TCP reset; ``stall()`` freezes every open
session's playlist; ``discontinuity(gap)`` moves the clock forward by ``gap``
seconds with ``EXT-X-DISCONTINUITY``; ``duplicate()`` lists the next segment twice;
``skip_ahead(k)`` never lists the next k segments; ``junk_playlists(bodies)`` answers
the next media playlist requests with broken bodies; ``empty_body()`` answers the next
segment's first request with no body; ``expire()`` makes every open session's
playlists answer 404; ``hold_window(n)`` keeps listing every segment from ``n`` on
(a window that grows) until ``release_window()``.
"""

import datetime as dt
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from tests.httpfake import FakeHandler, FakeServer, serve, stop
from tests.media import Stream

EPOCH = dt.datetime(1970, 1, 1)


@dataclass
class Published:
    """One segment as the origin listed it."""

    n: int
    variant: str
    start: dt.datetime  # naive UTC, the program-date-time it was listed with
    duration: float
    data: bytes  # what a stored file must hold (init section in front for fMP4)
    first_listed: float  # time.time() when a playlist first listed it


@dataclass
class _Faults:
    playlist_errors: int = 0
    segment_errors: dict[int, int] = field(default_factory=dict)
    slow: dict[int, float] = field(default_factory=dict)
    resets: dict[int, int] = field(default_factory=dict)
    pauses: dict[int, float] = field(default_factory=dict)  # n -> seconds to pause mid-body
    empty: set[int] = field(default_factory=set)  # n whose first response has an empty body
    expired: set[int] = field(default_factory=set)  # sessions whose playlists now 404
    discontinuities: dict[int, float] = field(default_factory=dict)  # n -> gap seconds
    duplicates: set[int] = field(default_factory=set)
    hidden: set[int] = field(default_factory=set)
    stalled: dict[int, dict[str, str]] = field(default_factory=dict)  # session -> frozen text
    junk: list[bytes] = field(default_factory=list)  # bodies for the next media playlist GETs


class Origin:
    """A live origin serving ``variants`` (name -> Stream) from ``start()`` until ``stop()``.

    ``speed`` > 1 publishes faster than real time (the media clock still advances by
    EXTINF per segment). ``window`` is how many segments a media playlist lists;
    ``retention`` how many seconds after leaving the window a segment still answers
    (then 404, like an origin whose URLs expire).
    """

    def __init__(
        self,
        variants: dict[str, Stream],
        *,
        window: int = 6,
        speed: float = 1.0,
        retention: float = 60.0,
        start_pdt: dt.datetime | None = None,
        names: bool = True,
    ):
        self.variants = variants
        self.window = window
        self.speed = speed
        self.retention = retention
        self.names = names  # put NAME= on EXT-X-STREAM-INF
        durations = {tuple(s.durations) for s in variants.values()}
        if len(durations) != 1:
            raise ValueError("every variant must have the same segment durations")
        self.durations = list(next(iter(durations)))
        self.loop = sum(self.durations)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        start_pdt = start_pdt or now - dt.timedelta(seconds=window * self.durations[0])
        # Playlists give milliseconds: keep the truth at that precision too.
        self.start_pdt = start_pdt.replace(microsecond=start_pdt.microsecond // 1000 * 1000)
        self.lock = threading.Lock()
        self.faults = _Faults()
        self.published: dict[str, dict[int, Published]] = {v: {} for v in variants}
        self.sessions = 0
        self.requests: list[tuple[float, str, int]] = []  # (time, path, status)
        self.hosts: list[str] = []  # the Host header of each of those requests, in order
        self.held_from: int | None = None  # hold_window(): oldest segment still listed
        self.cut_short: list[tuple[str, int]] = []  # (variant, n) of bodies cut by a reset
        self.empty_served: list[tuple[str, int]] = []  # (variant, n) answered with no body
        self.t0 = 0.0
        self.server: FakeServer | None = None
        self.down = False

    # -- timeline -----------------------------------------------------------

    def _offset(self, n: int) -> float:
        """Media seconds from the first segment's start to segment n's start."""
        loops, i = divmod(n, len(self.durations))
        return loops * self.loop + sum(self.durations[:i])

    def _gap_before(self, n: int) -> float:
        return sum(g for m, g in self.faults.discontinuities.items() if m <= n)

    def start_of(self, n: int) -> dt.datetime:
        """Segment n's program-date-time (naive UTC), discontinuity gaps included."""
        return self.start_pdt + dt.timedelta(seconds=self._offset(n) + self._gap_before(n))

    def published_count(self) -> int:
        """How many segments exist now: those whose end is in the past on the origin clock.

        A full window exists from the first request, so a new client sees a live stream.
        """
        media = (time.monotonic() - self.t0) * self.speed + self._offset(self.window)
        n = 0
        # Segments are ~1 s, so this loop is short; it keeps arbitrary EXTINFs exact.
        loops = int(media // self.loop)
        n = loops * len(self.durations)
        while self._offset(n + 1) <= media:
            n += 1
        return n

    def segment_data(self, variant: str, n: int) -> bytes:
        stream = self.variants[variant]
        return stream.segment_bytes(n % len(stream.segments))

    def _fragment(self, variant: str, n: int) -> bytes:
        """The bytes served for segment n: without the init section for fMP4."""
        data = self.segment_data(variant, n)
        init = self.variants[variant].init
        return data[len(init) :] if init else data

    # -- faults (called by the test, any thread) -----------------------------

    def _next(self) -> int:
        """The next segment to be published that is not hidden."""
        n = self.published_count()
        while n in self.faults.hidden:
            n += 1
        return n

    def playlist_errors(self, k: int = 2) -> None:
        with self.lock:
            self.faults.playlist_errors += k

    def segment_errors(self, k: int = 2) -> int:
        with self.lock:
            n = self._next()
            self.faults.segment_errors[n] = k
            return n

    def slow_first_byte(self, seconds: float) -> int:
        with self.lock:
            n = self._next()
            self.faults.slow[n] = seconds
            return n

    def empty_body(self) -> int:
        """The next segment's first response is 200 OK with an empty body."""
        with self.lock:
            n = self._next()
            self.faults.empty.add(n)
            return n

    def expire(self) -> None:
        """Every session opened so far answers 404: its media playlist URLs expired."""
        with self.lock:
            self.faults.expired.update(range(1, self.sessions + 1))

    def pause_midway(self, seconds: float) -> int:
        """The next segment's first response pauses this long halfway through its body."""
        with self.lock:
            n = self._next()
            self.faults.pauses[n] = seconds
            return n

    def reset_midway(self, k: int = 1) -> int:
        with self.lock:
            n = self._next()
            self.faults.resets[n] = k
            return n

    def junk_playlists(self, bodies: list[bytes]) -> None:
        """Answer the next media playlist requests with these bodies (200 OK), in order."""
        with self.lock:
            self.faults.junk.extend(bodies)

    def stall(self) -> None:
        """Freeze every session opened so far; new master fetches get a live session."""
        with self.lock:
            for session in range(1, self.sessions + 1):
                if session not in self.faults.stalled:
                    self.faults.stalled[session] = {
                        v: self._media_playlist(v) for v in self.variants
                    }

    def discontinuity(self, gap: float = 5.0) -> int:
        with self.lock:
            n = self._next()
            self.faults.discontinuities[n] = gap
            return n

    def duplicate(self) -> int:
        with self.lock:
            n = self._next()
            self.faults.duplicates.add(n)
            return n

    def skip_ahead(self, k: int = 3) -> int:
        with self.lock:
            n = self._next()
            self.faults.hidden.update(range(n, n + k))
            return n

    def hold_window(self, first: int) -> None:
        """List every segment from ``first`` on, however far the window moves, until released.

        A client that comes back after an absence of unknown length then still sees
        everything from ``first``, as from an origin whose window is long enough.
        """
        with self.lock:
            self.held_from = first

    def release_window(self) -> None:
        with self.lock:
            self.held_from = None

    def _window_start(self, count: int) -> int:
        """The oldest segment a media playlist lists now (``count`` exist). Holds the lock."""
        start = max(0, count - self.window)
        return start if self.held_from is None else min(start, self.held_from)

    # -- playlists -------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None, "call start() first"
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def master_url(self) -> str:
        return f"{self.url}/master.m3u8"

    def _master_playlist(self, session: int) -> str:
        lines = ["#EXTM3U", "#EXT-X-VERSION:7"]
        for i, (name, stream) in enumerate(self.variants.items()):
            w, h = stream.size.split("x")
            codecs = "avc1.64000d,mp4a.40.2"
            label = f',NAME="{name}"' if self.names else ""
            lines.append(
                f"#EXT-X-STREAM-INF:BANDWIDTH={400000 + i * 1000},RESOLUTION={w}x{h},"
                f'CODECS="{codecs}"{label}'
            )
            lines.append(f"live/{session}/{name}.m3u8")
        return "\n".join(lines) + "\n"

    def _media_playlist(self, variant: str) -> str:
        """The live window now; records each listed segment as published. Holds the lock."""
        stream = self.variants[variant]
        count = self.published_count()
        listed = list(range(self._window_start(count), count))
        listed = [n for n in listed if n not in self.faults.hidden]
        target = max(1, round(max(self.durations)))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:7",
            f"#EXT-X-TARGETDURATION:{target}",
            f"#EXT-X-MEDIA-SEQUENCE:{listed[0] if listed else count}",
        ]
        if stream.init:
            lines.append(f'#EXT-X-MAP:URI="/init/{variant}.mp4"')
        ext = "m4s" if stream.init else "ts"
        now = time.time()
        lines += self._header_lines(variant, listed)
        for n in listed:
            start = self.start_of(n)
            duration = self.durations[n % len(self.durations)]
            if n in self.faults.discontinuities or self._discontinuity_before(n):
                lines.append("#EXT-X-DISCONTINUITY")
            entry = [
                f"#EXT-X-PROGRAM-DATE-TIME:{start.isoformat(timespec='milliseconds')}Z",
                f"#EXTINF:{duration:.6f},{self._title(n)}",
                f"/seg/{variant}/{n}.{ext}",
            ]
            lines += entry
            if n in self.faults.duplicates:
                lines += entry
            if n not in self.published[variant]:
                self.published[variant][n] = Published(
                    n, variant, start, duration, self.segment_data(variant, n), now
                )
        lines += self._footer_lines(variant, count)
        return "\n".join(lines) + "\n"

    # Hooks for origins that dress their playlists differently (Twitch).

    def _header_lines(self, variant: str, listed: list[int]) -> list[str]:
        return []

    def _footer_lines(self, variant: str, count: int) -> list[str]:
        return []

    def _title(self, n: int) -> str:
        return ""

    def _discontinuity_before(self, n: int) -> bool:
        return False

    # -- serving ---------------------------------------------------------------

    def start(self) -> "Origin":
        self.t0 = time.monotonic()
        self._serve(0)
        return self

    def _serve(self, port: int) -> None:
        origin = self

        class Handler(_Handler):
            pass

        Handler.origin = origin
        self.server = serve(Handler, port, _Server)

    def go_down(self) -> None:
        """Become unreachable: connections are refused (and open ones dropped) until come_back().

        The live stream goes on meanwhile, so segments leave the window unseen.
        """
        self.down_port = self.server.server_port
        self.down = True
        stop(self.server)

    def come_back(self) -> None:
        self.down = False
        self._serve(self.down_port)

    def stop(self) -> None:
        if self.server is not None and not self.down:
            stop(self.server)

    def __enter__(self) -> "Origin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def respond(self, path: str) -> tuple[int, bytes, float, bool | float]:
        """(status, body, first-byte delay, cut) for a GET of ``path``.

        ``cut`` is True to reset the connection halfway through the body, a number of
        seconds to pause there, or False.
        """
        parts = path.split("?")[0].strip("/").split("/")
        with self.lock:
            if parts == ["master.m3u8"]:
                self.sessions += 1
                return 200, self._master_playlist(self.sessions).encode(), 0, False
            if len(parts) == 3 and parts[0] == "live" and parts[2].endswith(".m3u8"):
                session, variant = int(parts[1]), parts[2][: -len(".m3u8")]
                if variant not in self.variants or not 0 < session <= self.sessions:
                    return 404, b"no such playlist\n", 0, False
                if self.faults.playlist_errors > 0:
                    self.faults.playlist_errors -= 1
                    return 503, b"busy\n", 0, False
                if session in self.faults.expired:
                    return 404, b"expired\n", 0, False
                if self.faults.junk:
                    return 200, self.faults.junk.pop(0), 0, False
                if session in self.faults.stalled:
                    return 200, self.faults.stalled[session][variant].encode(), 0, False
                return 200, self._media_playlist(variant).encode(), 0, False
            if len(parts) == 2 and parts[0] == "init" and parts[1].endswith(".mp4"):
                stream = self.variants.get(parts[1][: -len(".mp4")])
                if stream is None or not stream.init:
                    return 404, b"no such init\n", 0, False
                return 200, stream.init, 0, False
            if len(parts) == 3 and parts[0] == "seg" and parts[1] in self.variants:
                variant = parts[1]
                n = int(parts[2].split(".")[0])
                count = self.published_count()
                age = (self._window_start(count) - n) * self.durations[0] / self.speed
                if n >= count or n in self.faults.hidden or age > self.retention:
                    return 404, b"no such segment\n", 0, False
                body = self._fragment(variant, n)
                if self.faults.segment_errors.get(n, 0) > 0:
                    self.faults.segment_errors[n] -= 1
                    return 500, b"oops\n", 0, False
                if n in self.faults.empty:
                    self.faults.empty.discard(n)
                    self.empty_served.append((variant, n))
                    return 200, b"", 0, False
                delay = self.faults.slow.pop(n, 0.0)
                if n in self.faults.pauses:
                    return 200, body, delay, self.faults.pauses.pop(n)
                reset = self.faults.resets.get(n, 0) > 0
                if reset:
                    self.faults.resets[n] -= 1
                    self.cut_short.append((variant, n))
                return 200, body, delay, reset
        return 404, b"not found\n", 0, False

    def respond_post(self, path: str, headers, body: bytes) -> tuple[int, bytes]:
        """(status, body) for a POST; a plain origin has nothing to post to."""
        return 404, b'{"error": "not found"}'


class _Server(FakeServer):
    # Clients hang up in every way (the downloader is killed, or abandons a slow attempt),
    # and hostile tests send what no origin expects: not a test failure, and printing
    # tracebacks would only bury the real output.
    quiet_errors = (Exception,)


class _Handler(FakeHandler):
    # keep-alive (FakeHandler), so the downloader can reuse connections
    origin: Origin

    def do_POST(self):
        status, body = self.origin.respond_post(self.path, self.headers, self.body())
        with self.origin.lock:
            self.origin.requests.append((time.time(), self.path, status))
            self.origin.hosts.append(self.headers.get("Host", ""))
        self.send(status, body, "application/json")

    def do_GET(self):
        if self.origin.down:  # a kept-alive connection from before the outage: drop it
            self.close_connection = True
            return
        status, body, delay, reset = self.origin.respond(self.path)
        with self.origin.lock:
            self.origin.requests.append((time.time(), self.path, status))
            self.origin.hosts.append(self.headers.get("Host", ""))
        if delay:
            time.sleep(delay)
        kind = "application/vnd.apple.mpegurl" if ".m3u8" in self.path else "video/MP2T"
        if reset is False:
            self.send(status, body, kind)
            return
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if reset is not True:  # a pause, then the rest
            time.sleep(reset)
            self.wfile.write(body[len(body) // 2 :])
            return
        # Then a TCP reset (SO_LINGER 0): the client sees a body cut short.
        # Linux drops unread received data when a reset arrives: give the client a moment
        # to read the half, so it really holds a body cut short rather than nothing.
        time.sleep(0.2)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
