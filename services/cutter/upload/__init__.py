"""Upload locations for the cutter, and ``--location NAME=BACKEND[:OPTIONS]`` parsing.

Backends: ``local`` (a directory, see :mod:`.local`) and ``youtube`` (see
:mod:`.youtube`). OPTIONS is the backend's main argument followed by
``;key=value`` settings; ``;full=ENCODING`` (e.g. ``full=container=mp4,crf=23``)
makes the location take full cuts instead of fast ones.
"""

from services.cutter.upload.base import (
    UploadError,
    UploadLocation,
    UploadResult,
    UploadUnknown,
    VideoMeta,
)
from services.cutter.upload.local import LocalLocation
from services.cutter.upload.youtube import YouTubeLocation
from services.cutting import Encoding

__all__ = [
    "LocalLocation",
    "UploadError",
    "UploadLocation",
    "UploadResult",
    "UploadUnknown",
    "VideoMeta",
    "YouTubeLocation",
    "parse_location",
]

BACKENDS = ("local", "youtube")


def parse_location(text: str) -> UploadLocation:
    """``NAME=BACKEND:ARG[;key=value...]`` as an upload location.

    Raises ValueError showing the bad text and the expected form.
    """
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(
            f"location {text!r} is not NAME=BACKEND:OPTIONS (e.g. clips=local:/srv/clips)"
        )
    backend, _, options = spec.partition(":")
    if backend not in BACKENDS:
        raise ValueError(
            f"location {text!r}: backend {backend!r} is not one of {', '.join(BACKENDS)}"
        )
    main, *settings = options.split(";")
    if not main:
        what = "a directory" if backend == "local" else "the path of its JSON settings"
        raise ValueError(f"location {text!r}: {backend} needs {what} after '{backend}:'")
    values: dict[str, str] = {}
    for item in settings:
        key, eq, value = item.partition("=")
        values[key.strip()] = value if eq else "1"
    encoding = Encoding.parse(values.pop("full")) if "full" in values else None
    if backend == "local":
        location = LocalLocation(
            name,
            main,
            url_prefix=values.pop("url", None),
            sidecar=values.pop("sidecar", "0") not in ("0", "false", "no"),
            encoding=encoding,
        )
    else:
        location = YouTubeLocation(name, main, encoding=encoding)
    if values:
        raise ValueError(f"location {text!r}: unknown settings {sorted(values)!r}")
    return location
