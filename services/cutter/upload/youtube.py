"""``youtube``: YouTube's resumable upload protocol over ``requests``.

Option: the path of a JSON file (``NAME=youtube:/etc/fastseg/youtube.json[;full=ENCODING]``)::

    {"client_id": "...", "client_secret": "...", "refresh_token": "...",
     "privacy": "unlisted", "category_id": "20", "language": "en", "tags": ["marathon"],
     "chunk_size": 8388608}

``privacy`` is the most public a video of this location may be: ``public``
(the default) uploads each event as it says (public, or unlisted when its
``public`` is false), ``unlisted`` makes every video at most unlisted, ``private``
keeps them all private. The location's ``tags`` follow the event's. Title,
description and tags arrive composed and checked (docs/DESIGN.md#publishing):
nothing is cut off here. Optional keys: ``token_uri`` and ``api_base``
(Google's by default; the tests point them at a local server),
``link_template`` (``https://youtu.be/{id}``), ``resume_attempts`` (6: tries
to resume one chunk before giving up).

The protocol (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
a POST with the metadata opens a session (its URI in ``Location``); PUTs send
the bytes in chunks that are multiples of 256 KiB, each answered by ``308
Resume Incomplete`` with ``Range: bytes=0-N`` (what the server has); the last
PUT names the total length and is answered with the video resource. After a
dropped connection or a 5xx, ``PUT`` with ``Content-Range: bytes */TOTAL`` asks
how much arrived, and the upload resumes from there.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable

import requests

from services.cutter.upload.base import (
    UploadError,
    UploadLocation,
    UploadResult,
    UploadUnknown,
    VideoMeta,
)
from services.cutting import Encoding
from services.db.publishing import merged_tags
from services.runtime import backoff
from services.runtime.google_oauth import RefreshToken, TokenError
from services.runtime.google_oauth import describe_response as _describe

logger = logging.getLogger(__name__)

CHUNK_UNIT = 256 * 1024  # the protocol's: every chunk but the last is a multiple of this
RESUME_ATTEMPTS = 6
TIMEOUT = 60  # seconds without progress on one request
RETRYABLE_STATUS = {500, 502, 503, 504}
# 403 reasons that mean "not now" rather than "never".
RETRYABLE_REASONS = {"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "backendError"}
CONTENT_TYPES = {"ts": "video/mp2t", "mp4": "video/mp4", "mkv": "video/x-matroska"}
PRIVACY = ("private", "unlisted", "public")


class _Dropped(Exception):
    """A request failed in a way worth resuming after (connection lost, 5xx)."""


def _reason(resp: requests.Response) -> str:
    try:
        errors = resp.json()["error"]["errors"]
        return errors[0].get("reason", "")
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


class YouTubeLocation(UploadLocation):
    backend = "youtube"

    def __init__(self, name: str, config_path: str, *, encoding: Encoding | None = None):
        self.name = name
        self.encoding = encoding
        try:
            with open(config_path) as f:
                config = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read YouTube settings from {config_path!r}: {e}") from e
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not config.get(k)]
        if missing:
            raise ValueError(f"YouTube settings in {config_path!r} lack {', '.join(missing)}")
        self.client_id = config["client_id"]
        self.client_secret = config["client_secret"]
        self.refresh_token = config["refresh_token"]
        self.token_uri = config.get("token_uri", "https://oauth2.googleapis.com/token")
        self.api_base = config.get("api_base", "https://www.googleapis.com").rstrip("/")
        self.privacy = config.get("privacy", "public")
        if self.privacy not in PRIVACY:
            raise ValueError(f"privacy {self.privacy!r} is not one of {', '.join(PRIVACY)}")
        self.category_id = str(config.get("category_id", "20"))
        self.language = config.get("language")
        self.tags = list(config.get("tags", []))
        self.link_template = config.get("link_template", "https://youtu.be/{id}")
        prefix = self.link_template.split("{", 1)[0]
        self.public_url = prefix if prefix.startswith(("http://", "https://")) else None
        self.chunk_size = int(config.get("chunk_size", 32 * CHUNK_UNIT))
        if self.chunk_size <= 0 or self.chunk_size % CHUNK_UNIT:
            raise ValueError(
                f"chunk_size {self.chunk_size!r} is not a positive multiple of {CHUNK_UNIT}"
            )
        self.resume_attempts = int(config.get("resume_attempts", RESUME_ATTEMPTS))
        self.session = requests.Session()
        self._oauth = RefreshToken(
            self.session, self.client_id, self.client_secret, self.refresh_token,
            self.token_uri, service="YouTube",
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"YouTubeLocation({self.name!r}, {self.api_base!r})"

    # -- OAuth ------------------------------------------------------------------------

    def _access_token(self, refresh: bool = False) -> str:
        """A valid access token (shared Google OAuth code), failures as UploadError."""
        try:
            return self._oauth.access_token(refresh)
        except TokenError as e:
            raise UploadError(str(e), retryable=e.retryable) from e

    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        """An authorised request; a 401 gets one fresh token and one more try."""
        for refresh in (False, True):
            headers = {
                **kwargs.pop("headers", {}),
                "Authorization": f"Bearer {self._access_token(refresh)}",
            }
            resp = self.session.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
            if resp.status_code != 401:
                return resp
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            logger.info("access token refused: refreshing it")
        return resp

    def _fail(self, resp: requests.Response, what: str) -> UploadError:
        reason = _reason(resp)
        retryable = resp.status_code in RETRYABLE_STATUS or resp.status_code == 429
        retryable = retryable or (resp.status_code == 403 and reason in RETRYABLE_REASONS)
        # 404/410 on a session: it expired; a new session next time will do.
        retryable = retryable or resp.status_code in (404, 410)
        return UploadError(f"YouTube {what} failed: {_describe(resp)}", retryable=retryable)

    # -- the upload -------------------------------------------------------------------

    def _start_session(self, meta: VideoMeta) -> str:
        snippet = {
            "title": meta.title,
            "description": meta.description,
            "tags": list(merged_tags(meta.tags, self.tags)),
            "categoryId": self.category_id,
        }
        if self.language:
            snippet["defaultLanguage"] = self.language
            snippet["defaultAudioLanguage"] = self.language
        wanted = "public" if meta.public else "unlisted"
        privacy = min(wanted, self.privacy, key=PRIVACY.index)  # the least public of the two
        body = {"snippet": snippet, "status": {"privacyStatus": privacy}}
        try:
            resp = self._request(
                "POST",
                f"{self.api_base}/upload/youtube/v3/videos",
                params={"uploadType": "resumable", "part": "snippet,status"},
                json=body,
                headers={"X-Upload-Content-Type": CONTENT_TYPES.get(meta.extension, "video/*")},
            )
        except requests.RequestException as e:
            raise UploadError(f"cannot start a YouTube upload: {e}", retryable=True) from e
        if resp.status_code != 200 or "Location" not in resp.headers:
            raise self._fail(resp, "upload start")
        return resp.headers["Location"]

    def _put(
        self, session_uri: str, data: bytes, offset: int, total: int | None
    ) -> requests.Response:
        """PUT one chunk; raises _Dropped for what resuming can fix."""
        last = offset + len(data) - 1
        content_range = f"bytes {offset}-{last}/{'*' if total is None else total}"
        try:
            resp = self._request(
                "PUT", session_uri, data=data, headers={"Content-Range": content_range}
            )
        except requests.RequestException as e:
            raise _Dropped(f"PUT {content_range} failed: {e}") from e
        if resp.status_code in RETRYABLE_STATUS:
            raise _Dropped(f"PUT {content_range}: {_describe(resp)}")
        return resp

    def _query(self, session_uri: str, total: int | None) -> requests.Response:
        """How much has arrived: 308 with Range, or 200/201 if the upload is complete."""
        try:
            resp = self._request(
                "PUT",
                session_uri,
                data=b"",
                headers={"Content-Range": f"bytes */{'*' if total is None else total}"},
            )
        except requests.RequestException as e:
            raise _Dropped(f"status query failed: {e}") from e
        if resp.status_code in RETRYABLE_STATUS:
            raise _Dropped(f"status query: {_describe(resp)}")
        return resp

    @staticmethod
    def _received(resp: requests.Response) -> int:
        """Bytes the server has, from a 308's ``Range: bytes=0-N`` (none: 0)."""
        header = resp.headers.get("Range")
        if not header:
            return 0
        try:
            return int(header.rpartition("-")[2]) + 1
        except ValueError:
            raise UploadError(
                f"YouTube sent a bad Range header {header!r}", retryable=True
            ) from None

    def _send(self, session_uri: str, buf: bytearray, offset: int, size: int, total: int | None):
        """Send ``buf[:size]`` at ``offset`` until it has all arrived, resuming after drops.

        Returns (new offset, the final response or None). ``buf`` loses the bytes
        the server confirmed.
        """
        attempt = 0
        while True:
            try:
                if attempt == 0:
                    resp = self._put(session_uri, bytes(buf[:size]), offset, total)
                else:
                    resp = self._query(session_uri, total)
                if resp.status_code in (200, 201):
                    del buf[:size]
                    return offset + size, resp
                if resp.status_code != 308:
                    raise self._fail(resp, f"chunk at byte {offset}")
                received = self._received(resp)
                if not offset <= received <= offset + size:
                    raise UploadError(
                        f"YouTube says it has {received} bytes, but we sent {offset}-"
                        f"{offset + size - 1}: the session is inconsistent",
                        retryable=True,
                    )
                del buf[: received - offset]
                size -= received - offset
                offset = received
                if size == 0:
                    return offset, None
                attempt = 0  # progress: send the rest
            except _Dropped as e:
                attempt += 1
                if attempt > self.resume_attempts:
                    raise
                delay = backoff.delay(attempt, 1.0, 30)
                logger.warning("upload interrupted (%s): resuming in %.1fs", e, delay)
                time.sleep(delay)

    def upload(
        self, meta: VideoMeta, chunks: Iterable[bytes], finalize: Callable[[], None]
    ) -> UploadResult:
        session_uri = self._start_session(meta)
        logger.info("upload session opened for %r", meta.title)
        buf = bytearray()
        offset = 0
        try:
            for chunk in chunks:
                buf += chunk
                # Keep at least one byte back: only the last PUT may end the upload.
                while len(buf) > self.chunk_size:
                    offset, _ = self._send(session_uri, buf, offset, self.chunk_size, None)
        except _Dropped as e:
            raise UploadError(f"YouTube upload kept failing: {e}", retryable=True) from e
        if not buf:
            raise UploadError("the cut produced no bytes: nothing to upload", retryable=False)
        finalize()
        total = offset + len(buf)
        try:
            while True:
                offset, resp = self._send(session_uri, buf, offset, len(buf), total)
                if resp is not None:
                    break
        except _Dropped as e:
            raise UploadUnknown(
                f"the last chunk of {session_uri!r} could not be confirmed ({e}): the video "
                "may exist; check the channel"
            ) from e
        video = resp.json()
        video_id = video["id"]
        logger.info("uploaded %r as YouTube video %r", meta.title, video_id)
        return UploadResult(
            video_id=video_id, link=self.link_template.format(id=video_id), transcoding=True
        )

    def set_thumbnail(self, result: UploadResult, meta: VideoMeta, jpeg: bytes) -> None:
        """``thumbnails.set``: the JPEG as the request's body, the video named in the query."""
        try:
            resp = self._request(
                "POST",
                f"{self.api_base}/upload/youtube/v3/thumbnails/set",
                params={"videoId": result.video_id},
                data=jpeg,
                headers={"Content-Type": "image/jpeg"},
            )
        except requests.RequestException as e:
            raise UploadError(
                f"cannot reach YouTube to set the thumbnail: {e}", retryable=True
            ) from e
        if resp.status_code != 200:
            raise self._fail(resp, "thumbnails.set")
        logger.info("thumbnail of YouTube video %r set (%d bytes)", result.video_id, len(jpeg))

    def check_ready(self, video_ids: list[str]) -> dict[str, str | None]:
        """Ask YouTube whether processing finished ("processed" is ready)."""
        result: dict[str, str | None] = {}
        for i in range(0, len(video_ids), 50):  # the API takes at most 50 ids a call
            batch = video_ids[i : i + 50]
            try:
                resp = self._request(
                    "GET",
                    f"{self.api_base}/youtube/v3/videos",
                    params={"part": "status", "id": ",".join(batch)},
                )
            except (requests.RequestException, UploadError) as e:
                logger.warning("cannot check YouTube processing status: %s", e)
                continue
            if resp.status_code != 200:
                logger.warning("checking YouTube processing status: %s", _describe(resp))
                continue
            found = {item["id"]: item.get("status", {}) for item in resp.json().get("items", [])}
            for video_id in batch:
                status = found.get(video_id)
                if status is None:
                    result[video_id] = "YouTube no longer lists this video (deleted?)"
                    continue
                upload_status = status.get("uploadStatus")
                if upload_status == "processed":
                    result[video_id] = ""
                elif upload_status in ("failed", "rejected", "deleted"):
                    detail = status.get("failureReason") or status.get("rejectionReason") or ""
                    result[video_id] = f"YouTube processing {upload_status} {detail}".strip()
                else:
                    result[video_id] = None
        return result
