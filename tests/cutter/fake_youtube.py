"""A local HTTP server speaking YouTube's upload protocol, with faults on demand.

It implements what the backend relies on, as Google documents it: the OAuth
refresh-token grant, opening a resumable session, chunked PUTs (every chunk
but the last a multiple of 256 KiB, answered 308 with ``Range``), status
queries (``Content-Range: bytes */TOTAL``), completion with the video resource,
``videos.list`` with ``status.uploadStatus``, and ``thumbnails.set`` (a POST of the
image as the body to ``/upload/youtube/v3/thumbnails/set?videoId=ID``: JPEG or PNG,
at most 2 MiB, of a video that exists; kept in ``thumbnails``). Faults: a connection dropped
after part of a chunk arrived (the part before it is kept, as Google keeps
what it persisted), a dropped response after the upload completed, an error
status for the next request, and expired tokens.
"""

import json
import socket
import threading
import urllib.parse
import uuid

from tests.httpfake import FakeHandler, serve, stop

CHUNK_UNIT = 256 * 1024
THUMBNAIL_LIMIT = 2 * 1024 * 1024  # bytes: thumbnails.set's maximum file size
THUMBNAIL_TYPES = ("image/jpeg", "image/png")


class FakeYouTube:
    def __init__(self, client_id="cid", client_secret="secret", refresh_token="refresh"):
        self.credentials = (client_id, client_secret, refresh_token)
        self.lock = threading.Lock()
        self.tokens: set[str] = set()
        self.sessions: dict[str, dict] = {}
        self.videos: dict[str, dict] = {}
        self.token_grants = 0
        self.puts = 0
        self.drop_after: int | None = None  # drop the next chunk PUT after this many body bytes
        self.drop_completion = False  # complete the next final PUT, then drop the response
        self.fail_next: tuple[int, str] | None = None  # (status, reason) for the next API call
        self.down = False  # drop every connection without answering
        self.thumbnails: dict[str, tuple[str, bytes]] = {}  # video id -> (type, image)
        self.thumbnail_failure: tuple[int, str] | None = None  # every thumbnails.set fails so
        # Chunk PUTs wait for these events to be set, when they are given (to catch a
        # cutter mid-upload or mid-finalize).
        self.put_gate: threading.Event | None = None
        self.final_gate: threading.Event | None = None
        self.server = serve(_handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        stop(self.server)

    def config(self, **extra) -> dict:
        cid, secret, refresh = self.credentials
        return {
            "client_id": cid,
            "client_secret": secret,
            "refresh_token": refresh,
            "token_uri": f"{self.url}/token",
            "api_base": self.url,
            "link_template": f"{self.url}/watch?v={{id}}",
            "chunk_size": CHUNK_UNIT,
            **extra,
        }

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def process(self, video_id, status="processed"):
        with self.lock:
            self.videos[video_id]["status"]["uploadStatus"] = status


def _refused(meta: dict) -> tuple[str, str] | None:
    """(reason, message) as YouTube refuses metadata past its documented limits: a title of
    1 to 100 characters, a description of at most 5,000 bytes, neither with < or >, tags of
    at most 500 characters (commas between them counted, a tag with a space quoted), a
    privacyStatus it knows."""
    snippet = meta.get("snippet", {})
    title, description = snippet.get("title", ""), snippet.get("description", "")
    if not title or len(title) > 100 or set(title) & set("<>"):
        return "invalidTitle", "The request metadata specifies an invalid video title."
    if len(description.encode()) > 5000 or set(description) & set("<>"):
        return "invalidDescription", "The request metadata specifies an invalid description."
    tags = snippet.get("tags", [])
    if sum(len(t) + 2 * (" " in t) for t in tags) + max(len(tags) - 1, 0) > 500:
        return "invalidTags", "The request metadata specifies invalid video keywords."
    if meta.get("status", {}).get("privacyStatus", "public") not in (
        "public",
        "unlisted",
        "private",
    ):
        return "invalidVideoMetadata", "The request metadata is invalid."
    return None


def _handler(yt: FakeYouTube):
    class Handler(FakeHandler):
        def parse_request(self):
            # Checked per request, not per connection: a kept-alive connection must
            # die too once the server is "down".
            ok = super().parse_request()
            if ok and yt.down:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return False
            return ok

        def reply(self, status, body=None, headers=()):
            reason = "Resume Incomplete" if status == 308 else None
            if body is None:
                self.send(status, headers=headers, reason=reason)
            else:
                self.send_json(status, body, headers, reason)

        def error(self, status, reason, message):
            errors = [{"reason": reason, "message": message}]
            self.reply(status, {"error": {"code": status, "message": message, "errors": errors}})

        def authorised(self):
            auth = self.headers.get("Authorization", "")
            with yt.lock:
                ok = auth.startswith("Bearer ") and auth[7:] in yt.tokens
            if not ok:
                self.body()
                self.error(401, "authError", "Invalid Credentials")
            return ok

        def injected_failure(self):
            with yt.lock:
                failure, yt.fail_next = yt.fail_next, None
            if failure:
                self.body()
                self.error(failure[0], failure[1], f"injected {failure[1]}")
            return failure is not None

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/token":
                form = urllib.parse.parse_qs(self.body().decode())
                got = tuple(
                    form.get(k, [""])[0] for k in ("client_id", "client_secret", "refresh_token")
                )
                if form.get("grant_type") != ["refresh_token"] or got != yt.credentials:
                    return self.reply(
                        400, {"error": "invalid_grant", "error_description": "Bad Request"}
                    )
                token = uuid.uuid4().hex
                with yt.lock:
                    yt.tokens.add(token)
                    yt.token_grants += 1
                return self.reply(
                    200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
                )
            if url.path == "/upload/youtube/v3/thumbnails/set":
                return self.set_thumbnail(url)
            if url.path != "/upload/youtube/v3/videos":
                return self.error(404, "notFound", "no such endpoint")
            if not self.authorised() or self.injected_failure():
                return None
            query = urllib.parse.parse_qs(url.query)
            if query.get("uploadType") != ["resumable"]:
                return self.error(400, "badRequest", "uploadType must be resumable")
            meta = json.loads(self.body() or b"{}")
            refused = _refused(meta)
            if refused:
                return self.error(400, *refused)
            sid = uuid.uuid4().hex
            with yt.lock:
                yt.sessions[sid] = {"meta": meta, "data": bytearray(), "video": None,
                                    "type": self.headers.get("X-Upload-Content-Type")}  # fmt: skip
            location = f"{yt.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={sid}"
            return self.reply(200, None, [("Location", location)])

        def set_thumbnail(self, url):
            if not self.authorised() or self.injected_failure():
                return None
            image = self.body()
            if yt.thumbnail_failure:
                status, reason = yt.thumbnail_failure
                return self.error(status, reason, f"injected {reason}")
            video_id = urllib.parse.parse_qs(url.query).get("videoId", [""])[0]
            kind = self.headers.get("Content-Type", "")
            with yt.lock:
                known = video_id in yt.videos
            if not known:
                return self.error(404, "videoNotFound", f"no video {video_id!r}")
            if not image:
                return self.error(400, "mediaBodyRequired", "the request has no image")
            if kind not in THUMBNAIL_TYPES:
                return self.error(400, "invalidImage", f"unsupported media type {kind!r}")
            if len(image) > THUMBNAIL_LIMIT:
                return self.error(400, "mediaBodyTooLarge", "the thumbnail is over 2 MB")
            with yt.lock:
                yt.thumbnails[video_id] = (kind, image)
            default = {"url": f"{yt.url}/vi/{video_id}/default.jpg", "width": 120, "height": 90}
            return self.reply(
                200, {"kind": "youtube#thumbnailSetResponse", "items": [{"default": default}]}
            )

        def _range_headers(self, session):
            n = len(session["data"])
            return [("Range", f"bytes=0-{n - 1}")] if n else []

        def _complete(self, sid, session):
            video_id = uuid.uuid4().hex[:11]
            video = {"kind": "youtube#video", "id": video_id, "snippet": session["meta"]["snippet"],
                     "status": {**session["meta"].get("status", {}), "uploadStatus": "uploaded"},
                     "data": bytes(session["data"]), "type": session["type"]}  # fmt: skip
            yt.videos[video_id] = video
            session["video"] = video_id
            return video

        def _resource(self, video):
            return {k: v for k, v in video.items() if k not in ("data", "type")}

        def do_PUT(self):
            url = urllib.parse.urlsplit(self.path)
            sid = urllib.parse.parse_qs(url.query).get("upload_id", [""])[0]
            if not self.authorised():
                return None
            with yt.lock:
                session = yt.sessions.get(sid)
            if session is None:
                self.body()
                return self.error(404, "notFound", "upload session not found")
            if self.injected_failure():
                return None
            spec = self.headers.get("Content-Range", "")
            if not spec.startswith("bytes "):
                self.body()
                return self.error(400, "badRequest", f"bad Content-Range {spec!r}")
            span, _, total = spec[6:].partition("/")
            if span == "*":  # a status query
                self.body()
                with yt.lock:
                    if session["video"]:
                        return self.reply(200, self._resource(yt.videos[session["video"]]))
                    return self.reply(308, None, self._range_headers(session))
            first, _, last = span.partition("-")
            first, last = int(first), int(last)
            length = int(self.headers.get("Content-Length", 0))
            if length != last - first + 1:
                self.rfile.read(length)
                return self.error(400, "badRequest", "Content-Length does not match Content-Range")
            final = total != "*" and last + 1 == int(total)
            gate = yt.final_gate if final else yt.put_gate
            if gate is not None:
                gate.wait(120)
            if not final and length % CHUNK_UNIT:
                self.rfile.read(length)
                return self.error(400, "badRequest", "chunk size is not a multiple of 256 KiB")
            with yt.lock:
                yt.puts += 1
                drop, yt.drop_after = yt.drop_after, None
                if session["video"]:
                    self.rfile.read(length)
                    return self.reply(200, self._resource(yt.videos[session["video"]]))
                if first > len(session["data"]):
                    self.rfile.read(length)
                    return self.error(
                        400, "badRequest", f"gap: have {len(session['data'])}, got {first}"
                    )
            if drop is not None:
                part = self.rfile.read(min(drop, length))
                with yt.lock:  # keep what was persisted: whole 256 KiB units of it
                    keep = len(part) // CHUNK_UNIT * CHUNK_UNIT
                    del session["data"][first:]
                    session["data"] += part[:keep]
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return None
            data = self.rfile.read(length)
            with yt.lock:
                del session["data"][first:]  # a resent overlap replaces what was there
                session["data"] += data
                if not final:
                    return self.reply(308, None, self._range_headers(session))
                video = self._complete(sid, session)
                dropping, yt.drop_completion = yt.drop_completion, False
            if dropping:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return None
            return self.reply(200, self._resource(video))

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/youtube/v3/videos":
                return self.error(404, "notFound", "no such endpoint")
            if not self.authorised():
                return None
            ids = urllib.parse.parse_qs(url.query).get("id", [""])[0].split(",")
            with yt.lock:
                items = [
                    {"id": i, "status": dict(yt.videos[i]["status"])} for i in ids if i in yt.videos
                ]
            return self.reply(200, {"kind": "youtube#videoListResponse", "items": items})

    return Handler
