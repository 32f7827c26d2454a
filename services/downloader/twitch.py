"""The Twitch provider: channel name -> access token -> usher master playlist, and ad dropping.

Twitch serves a live channel's master playlist from its "usher" service, signed by a
playback access token that its GraphQL endpoint hands out (a persisted
``PlaybackAccessToken`` query, with the web player's public client id). Qualities
are named after the video rendition's group id, with ``chunked`` called ``source``,
as wubloader archives name them.

Ads are stitched into the stream: their segments are titled other than ``live``
(``Amazon|...``), and an ``EXT-X-DATERANGE`` of class ``twitch-stitched-ad`` (or an
id ``stitched-ad-...``) spans them. Either sign drops a segment.
"""

import datetime as dt
import logging
import random

from services.archive import times
from services.downloader.playlist import URLExpired, Variant, parse_master
from services.downloader.providers import make_session

logger = logging.getLogger(__name__)

GQL_URL = "https://gql.twitch.tv/gql"
USHER_URL = "https://usher.ttvnw.net/api/channel/hls/{channel}.m3u8"
#: The Twitch web player's public client id; GQL refuses playback tokens without one.
CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko"
#: sha256 of the PlaybackAccessToken query text Twitch has persisted.
TOKEN_QUERY_HASH = "0828119ded1c13477966434e15800ff57ddacf13ba1911c129dc2200705b0712"
TIMEOUT = 10.0
#: Ad date ranges are remembered this long after they end (later playlists omit them).
AD_MEMORY = dt.timedelta(minutes=10)


class TwitchError(Exception):
    """Twitch would not give a playlist: unknown channel, offline, or an odd answer."""


def twitch_quality(playlist, name: str | None) -> str | None:
    for media in playlist.media:
        if media.type == "VIDEO" and media.group_id:
            return "source" if media.group_id == "chunked" else media.group_id
    if playlist.stream_info.video:
        group = playlist.stream_info.video
        return "source" if group == "chunked" else group
    return name


class TwitchProvider:
    def __init__(self, gql_url: str = GQL_URL, usher_url: str = USHER_URL):
        self.gql_url = gql_url
        self.usher_url = usher_url
        self.session = make_session()
        self.ad_ranges: dict[str, tuple[dt.datetime, dt.datetime]] = {}  # id -> [start, end)

    def access_token(self, channel: str) -> tuple[str, str]:
        """(token, signature). Raises TwitchError, or requests' errors when Twitch fails."""
        body = {
            "operationName": "PlaybackAccessToken",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": TOKEN_QUERY_HASH}},
            "variables": {
                "isLive": True, "login": channel, "isVod": False, "vodID": "", "playerType": "site",
            },
        }  # fmt: skip
        resp = self.session.post(
            self.gql_url, json=body, headers={"Client-ID": CLIENT_ID}, timeout=TIMEOUT
        )
        resp.raise_for_status()
        try:
            token = resp.json()["data"]["streamPlaybackAccessToken"]
        except (ValueError, KeyError, TypeError) as e:
            raise TwitchError(
                f"access token answer for {channel!r} is not understood: {resp.text[:200]!r}"
            ) from e
        if token is None:
            raise TwitchError(f"twitch has no channel {channel!r}: check the name")
        return token["value"], token["signature"]

    def variants(self, channel: str) -> list[Variant]:
        token, signature = self.access_token(channel)
        params = {
            "player": "twitchweb", "p": random.randint(0, 9_999_999), "type": "any",
            "allow_source": "true", "allow_audio_only": "true", "allow_spectre": "false",
            "fast_bread": "true", "sig": signature, "token": token,
        }  # fmt: skip
        resp = self.session.get(
            self.usher_url.format(channel=channel), params=params, timeout=TIMEOUT
        )
        if resp.status_code == 404:
            raise TwitchError(f"channel {channel!r} is offline (usher answered 404)")
        if resp.status_code == 403:
            raise URLExpired(f"usher refused the access token for {channel!r} (403)")
        resp.raise_for_status()
        return parse_master(resp.text, resp.url, quality_of=twitch_quality)

    def is_ad(self, segment, playlist, start: dt.datetime) -> bool:
        title = segment.title
        if title and title != "live":
            return True
        for seg in playlist.segments:
            for daterange in seg.dateranges:
                self._note_daterange(daterange)
        for daterange in getattr(playlist, "dateranges", None) or []:
            self._note_daterange(daterange)
        for ad_start, ad_end in self.ad_ranges.values():
            if ad_start <= start < ad_end:
                return True
        cutoff = start - AD_MEMORY
        self.ad_ranges = {k: v for k, v in self.ad_ranges.items() if v[1] > cutoff}
        return False

    def _note_daterange(self, daterange) -> None:
        ident = daterange.id or ""
        if daterange.class_ != "twitch-stitched-ad" and not ident.startswith("stitched-ad-"):
            return
        if ident in self.ad_ranges:
            return
        try:
            start = times.parse(daterange.start_date)
        except (TypeError, ValueError):
            logger.warning(
                "ad date range %r has a bad START-DATE %r: ignored", ident, daterange.start_date
            )
            return
        seconds = daterange.duration or daterange.planned_duration
        if seconds is None:
            logger.warning("ad date range %r has no DURATION: ignored", ident)
            return
        self.ad_ranges[ident] = (start, start + dt.timedelta(seconds=float(seconds)))
