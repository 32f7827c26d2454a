"""A local stand-in for Twitch: the GQL access-token endpoint, usher, and Twitch-style playlists.

It answers what the downloader's Twitch provider asks, the way Twitch does:

* ``POST /gql`` with the persisted ``PlaybackAccessToken`` query and a ``Client-ID``
  header gives ``{"data": {"streamPlaybackAccessToken": {"value", "signature"}}}``
  (``null`` for a channel that does not exist; 400 without a Client-ID).
* ``GET /api/channel/hls/CHANNEL.m3u8?sig=&token=`` gives the master playlist, with
  ``EXT-X-MEDIA`` video renditions whose group id names the quality (``chunked`` is
  the source); 403 for a token it did not sign, 404 for a channel that is offline.
* Media playlists title live segments ``live`` and stitched ads ``Amazon|...``, wrap
  ad breaks in ``EXT-X-DISCONTINUITY``, announce them with ``EXT-X-DATERANGE``
  (``CLASS="twitch-stitched-ad"``, or only an ``ID="stitched-ad-..."``), and end with
  ``EXT-X-TWITCH-PREFETCH`` hints for segments that do not exist yet.
"""

import json
import secrets
import time
import urllib.parse

from tests.downloader.origin import Origin

CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko"
TOKEN_QUERY_HASH = "0828119ded1c13477966434e15800ff57ddacf13ba1911c129dc2200705b0712"


class TwitchOrigin(Origin):
    """Serves ``channel`` live; ``offline`` channels exist but have no stream."""

    def __init__(self, variants, *, channel: str, offline=(), **kwargs):
        super().__init__(variants, **kwargs)
        self.channel = channel
        self.offline = set(offline)
        self.tokens: dict[str, str] = {}  # signature -> token value
        self.ads: dict[int, str] = {}  # n -> "title" | "class" | "id"
        self.breaks: list[tuple[int, int, str]] = []  # (first n, count, kind)
        self.gql_bodies: list[dict] = []

    @property
    def gql_url(self) -> str:
        return f"{self.url}/gql"

    @property
    def usher_url(self) -> str:
        return f"{self.url}/api/channel/hls/{{channel}}.m3u8"

    def ad_break(self, k: int, kind: str) -> list[int]:
        """The next k segments are an ad, marked by ``kind``: title, class or id."""
        with self.lock:
            n = self._next()
            self.breaks.append((n, k, kind))
            for m in range(n, n + k):
                self.ads[m] = kind
            return list(range(n, n + k))

    # -- endpoints -----------------------------------------------------------

    def respond_post(self, path, headers, body):
        if path.split("?")[0] != "/gql":
            return 404, b'{"error":"Not Found","status":404}'
        if headers.get("Client-ID") != CLIENT_ID:
            message = 'The "Client-ID" header is missing from the request.'
            return 400, json.dumps(
                {"error": "Bad Request", "status": 400, "message": message}
            ).encode()
        request = json.loads(body)
        with self.lock:
            self.gql_bodies.append(request)
        query = request.get("extensions", {}).get("persistedQuery", {})
        if (
            request.get("operationName") != "PlaybackAccessToken"
            or query.get("sha256Hash") != TOKEN_QUERY_HASH
        ):
            return 200, json.dumps({"errors": [{"message": "PersistedQueryNotFound"}]}).encode()
        login = request["variables"]["login"]
        if login != self.channel and login not in self.offline:
            return 200, json.dumps({"data": {"streamPlaybackAccessToken": None}}).encode()
        value = json.dumps({"channel": login, "expires": int(time.time()) + 3600})
        signature = secrets.token_hex(20)
        with self.lock:
            self.tokens[signature] = value
        token = {"value": value, "signature": signature, "__typename": "PlaybackAccessToken"}
        return 200, json.dumps({"data": {"streamPlaybackAccessToken": token}}).encode()

    def respond(self, path):
        url = urllib.parse.urlsplit(path)
        prefix = "/api/channel/hls/"
        if not url.path.startswith(prefix):
            return super().respond(path)
        channel = url.path[len(prefix) : -len(".m3u8")]
        query = urllib.parse.parse_qs(url.query)
        sig, token = query.get("sig", [""])[0], query.get("token", [""])[0]
        with self.lock:
            signed = self.tokens.get(sig)
            if signed != token or json.loads(signed)["channel"] != channel:
                return 403, b'[{"error":"Unauthorized","error_code":"unauthorized"}]', 0, False
            if channel != self.channel:
                return (
                    404,
                    b'[{"error":"transcode does not exist","error_code":"not_found"}]',
                    0,
                    False,
                )
            self.sessions += 1
            return 200, self._master_playlist(self.sessions).encode(), 0, False

    # -- playlist dressing ---------------------------------------------------------

    def _master_playlist(self, session: int) -> str:
        lines = ["#EXTM3U", '#EXT-X-TWITCH-INFO:NODE="video-edge-local",SERVING-ID="test"']
        for i, (group, stream) in enumerate(self.variants.items()):
            w, h = stream.size.split("x")
            name = f"{h}p30 (source)" if group == "chunked" else group
            lines += [
                f'#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="{group}",NAME="{name}",AUTOSELECT=YES,DEFAULT=YES',
                f"#EXT-X-STREAM-INF:BANDWIDTH={900000 - i * 1000},RESOLUTION={w}x{h},"
                f'CODECS="avc1.64000D,mp4a.40.2",VIDEO="{group}",FRAME-RATE=30.000',
                f"/live/{session}/{group}.m3u8",
            ]
        return "\n".join(lines) + "\n"

    def _title(self, n):
        return "Amazon|403165398" if self.ads.get(n) == "title" else "live"

    def _discontinuity_before(self, n):
        # Ad breaks are stitched in: a discontinuity going into one and coming out of it.
        return (n in self.ads) != (n - 1 in self.ads)

    def _header_lines(self, variant, listed):
        if not listed:
            return []
        lines = [f"#EXT-X-TWITCH-ELAPSED-SECS:{self._offset(listed[0]):.3f}"]
        for first, k, kind in self.breaks:
            if kind == "title" or first + k <= listed[0] or first > listed[-1]:
                continue
            start = self.start_of(first).isoformat(timespec="milliseconds") + "Z"
            duration = sum(self.durations[m % len(self.durations)] for m in range(first, first + k))
            klass = ',CLASS="twitch-stitched-ad"' if kind == "class" else ""
            lines.append(
                f'#EXT-X-DATERANGE:ID="stitched-ad-{first}-{k}"{klass},START-DATE="{start}",'
                f'DURATION={duration:.3f},X-TV-TWITCH-AD-ROLL-TYPE="MIDROLL"'
            )
        return lines

    def _footer_lines(self, variant, count):
        # Low-latency hints: the next two segments, before they exist (fetching them 404s).
        return [
            f"#EXT-X-TWITCH-PREFETCH:{self.url}/seg/{variant}/{m}.ts" for m in (count, count + 1)
        ]
