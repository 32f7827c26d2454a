"""What every upload location does, and the errors it reports.

The cutter streams a cut into :meth:`UploadLocation.upload` and passes a
``finalize`` callback. The backend calls it once every byte has been sent and
just before the upload becomes final and visible (the rename, the last chunk):
that is when the row moves to FINALIZING (docs/DESIGN.md#state-machine). If the callback raises
(the row stopped being ours), the backend abandons the upload and lets the
exception through.
"""

import dataclasses
from collections.abc import Callable, Iterable

from services.cutting import Encoding

__all__ = ["UploadError", "UploadLocation", "UploadResult", "UploadUnknown", "VideoMeta"]


class UploadError(Exception):
    """The upload did not happen. ``retryable`` if trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class UploadUnknown(Exception):
    """Finalizing failed in a way that leaves unknown whether the video now exists."""


@dataclasses.dataclass(frozen=True)
class VideoMeta:
    """What is published: the composed title, description and tags (services.db.publishing)."""

    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    extension: str = "ts"  # of the cut's container: "ts" for fast cuts
    public: bool = True  # False: unlisted (docs/DESIGN.md#publishing)


@dataclasses.dataclass(frozen=True)
class UploadResult:
    video_id: str
    link: str
    transcoding: bool = False  # the location still processes it: check_ready() says when done


class UploadLocation:
    """An upload location named on the command line (``--location NAME=BACKEND:OPTIONS``).

    ``encoding`` is None for a fast cut (MPEG-TS, only the edges re-encoded),
    or the settings of a full cut.
    """

    name: str
    encoding: Encoding | None = None
    backend: str = ""  # "local", "youtube": recorded with the name for editors to see
    #: Where its videos can be opened (an http(s) prefix of their links), if anywhere.
    public_url: str | None = None

    def upload(
        self, meta: VideoMeta, chunks: Iterable[bytes], finalize: Callable[[], None]
    ) -> UploadResult:
        """Upload the bytes.

        Raises UploadError, UploadUnknown, or whatever ``chunks`` or ``finalize`` raise.
        """
        raise NotImplementedError

    def set_thumbnail(self, result: UploadResult, meta: VideoMeta, jpeg: bytes) -> None:
        """Give the uploaded video its thumbnail (a JPEG); raises UploadError if it failed."""
        raise UploadError(f"upload location {self.name!r} takes no thumbnails", retryable=False)

    def check_ready(self, video_ids: list[str]) -> dict[str, str | None]:
        """For videos left TRANSCODING: id -> None (processing), "" (ready) or an error."""
        return {video_id: "" for video_id in video_ids}
