"""``local``: the cut becomes ``TITLE-ID.ext`` in a directory, linked by a URL prefix.

Options (``NAME=local:DIR[;url=PREFIX][;sidecar][;full=ENCODING]``): the
directory; the public URL base of the links (``url=https://host/clips/``: the
address at which a web server serves DIR, e.g. a restreamer's ``--clips-dir``
under ``/clips/``; default ``file://DIR/``, which only opens on this machine
and never from a page served over http); ``sidecar``
writes ``TITLE-ID.json`` beside the video with its title, description, tags
and privacy (``public`` or ``unlisted``), as a YouTube location would publish them.
A thumbnail becomes ``TITLE-ID.jpg`` beside the video, named in the sidecar as
``thumbnail``.
The file is written under a hidden temporary name and renamed into place, so a
reader never sees half a video.
"""

import json
import logging
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterable

from services.cutter.upload.base import UploadError, UploadLocation, UploadResult, VideoMeta
from services.cutting import Encoding

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()\[\]-]+")
MAX_TITLE = 100  # characters of the title kept in the file name


def safe_title(title: str) -> str:
    """The title as a file-name part: no slashes, no leading dot, not empty."""
    cleaned = _UNSAFE.sub("_", title).strip(" .")[:MAX_TITLE].strip()
    return cleaned or "video"


class LocalLocation(UploadLocation):
    backend = "local"

    def __init__(
        self,
        name: str,
        directory: str,
        *,
        url_prefix: str | None = None,
        sidecar: bool = False,
        encoding: Encoding | None = None,
    ):
        self.name = name
        self.directory = os.path.abspath(directory)
        self.url_prefix = url_prefix or f"file://{urllib.parse.quote(self.directory)}/"
        if not self.url_prefix.endswith("/"):
            self.url_prefix += "/"
        if self.url_prefix.startswith(("http://", "https://")):
            self.public_url = self.url_prefix
        self.sidecar = sidecar
        self.encoding = encoding

    def __repr__(self) -> str:
        return f"LocalLocation({self.name!r}, {self.directory!r})"

    def upload(
        self, meta: VideoMeta, chunks: Iterable[bytes], finalize: Callable[[], None]
    ) -> UploadResult:
        video_id = uuid.uuid4().hex[:12]
        stem = f"{safe_title(meta.title)}-{video_id}"
        final = os.path.join(self.directory, f"{stem}.{meta.extension}")
        temp = os.path.join(self.directory, f".{stem}.{meta.extension}.tmp")
        sidecar = os.path.join(self.directory, f"{stem}.json")
        try:
            os.makedirs(self.directory, exist_ok=True)
            f = open(temp, "wb")  # noqa: SIM115 - closed in the finally below
        except OSError as e:
            raise UploadError(f"cannot write into {self.directory!r}: {e}", retryable=True) from e
        done = False
        try:
            with f:
                for chunk in chunks:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            finalize()
            if self.sidecar:  # in place before the video appears, never after
                info = {
                    "title": meta.title,
                    "description": meta.description,
                    "tags": list(meta.tags),
                    "privacy": "public" if meta.public else "unlisted",
                }
                with open(sidecar + ".tmp", "w") as s:
                    json.dump(info, s, indent=2)
                os.rename(sidecar + ".tmp", sidecar)
            os.rename(temp, final)  # atomic: before it nothing is visible, after it all is
            done = True
        except OSError as e:
            # Every step up to and including the rename either happened whole or
            # not at all, so after an error the video certainly does not exist.
            raise UploadError(f"cannot write {final!r}: {e}", retryable=True) from e
        finally:
            if not done:
                for path in (temp, sidecar + ".tmp", sidecar):
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass
        link = self.url_prefix + urllib.parse.quote(os.path.basename(final))
        logger.info("wrote %r", final)
        return UploadResult(video_id=video_id, link=link)

    def set_thumbnail(self, result: UploadResult, meta: VideoMeta, jpeg: bytes) -> None:
        """``TITLE-ID.jpg`` beside the video (and named in its sidecar), each renamed into place."""
        stem = os.path.join(self.directory, f"{safe_title(meta.title)}-{result.video_id}")
        try:
            _write_atomically(stem + ".jpg", jpeg)
            if os.path.exists(stem + ".json"):
                with open(stem + ".json") as f:
                    info = json.load(f)
                info["thumbnail"] = os.path.basename(stem + ".jpg")
                _write_atomically(stem + ".json", json.dumps(info, indent=2).encode())
        except (OSError, ValueError) as e:
            raise UploadError(
                f"cannot write the thumbnail {stem + '.jpg'!r}: {e}", retryable=True
            ) from e
        logger.info("wrote %r", stem + ".jpg")


def _write_atomically(path: str, data: bytes) -> None:
    """``data`` at ``path``, through a hidden temp name, so a reader sees all of it or none."""
    temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    try:
        with open(temp, "wb") as f:
            f.write(data)
        os.rename(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
