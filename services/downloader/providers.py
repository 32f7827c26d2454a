"""Where a channel's master playlist comes from: a plain HLS URL (here) or Twitch (``twitch``).

A provider has a ``session`` (requests, shared by every fetch of the channel so
connections are reused), ``variants(channel)`` resolving the channel to its
qualities, and ``is_ad(segment, playlist, start)`` saying which entries to leave out.
"""

import logging

import requests
import requests.adapters

from services.downloader.playlist import Variant, fetch_text, parse_master

logger = logging.getLogger(__name__)


def make_session() -> requests.Session:
    """A session whose pool holds enough connections for a window of concurrent fetches."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "fastseg-downloader"
    return session


class HLSProvider:
    """A master playlist at a fixed URL per channel (``--provider hls --url ...``)."""

    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        self.session = make_session()

    def variants(self, channel: str) -> list[Variant]:
        """Raises URLExpired, PlaylistError or requests' errors; the caller retries."""
        url = self.urls[channel]
        return parse_master(fetch_text(self.session, url), url)

    def is_ad(self, segment, playlist, start) -> bool:
        return False
