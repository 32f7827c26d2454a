"""How a full cut encodes: the upload location's codec, quality, size and container."""

import dataclasses
import os
import re

#: Containers a full cut can write, and the file extensions that name them.
CONTAINERS = ("mp4", "ts", "mkv", "fmp4")
EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".ts": "ts", ".mkv": "mkv"}
PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow",
)  # fmt: skip
_BITRATE = re.compile(r"[1-9][0-9]*(\.[0-9]+)?[kM]?")
_CODEC = re.compile(r"[A-Za-z0-9_-]+")


@dataclasses.dataclass(frozen=True)
class Encoding:
    """Settings for a full cut. ``width``/``height`` None keep the source's size.

    Give ``crf`` or ``video_bitrate`` (not both); with neither, CRF 23 is used.
    """

    container: str = "mp4"
    video_codec: str = "libx264"
    audio_codec: str = "aac"
    crf: int | None = None
    video_bitrate: str | None = None
    audio_bitrate: str = "128k"
    width: int | None = None
    height: int | None = None
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.container not in CONTAINERS:
            raise ValueError(f"container {self.container!r} is not one of {', '.join(CONTAINERS)}")
        for name in ("video_codec", "audio_codec"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _CODEC.fullmatch(value):
                raise ValueError(f"{name} {value!r} is not an ffmpeg encoder name like 'libx264'")
        if self.crf is not None and (
            not isinstance(self.crf, int) or isinstance(self.crf, bool) or not 0 <= self.crf <= 51
        ):
            raise ValueError(f"crf {self.crf!r} is not a whole number from 0 to 51")
        for name in ("video_bitrate", "audio_bitrate"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not _BITRATE.fullmatch(value)):
                raise ValueError(f"{name} {value!r} is not a bitrate like '3000k' or '2.5M'")
        if self.crf is not None and self.video_bitrate is not None:
            raise ValueError(
                f"give crf ({self.crf!r}) or video_bitrate ({self.video_bitrate!r}), not both"
            )
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 2 or value % 2
            ):
                raise ValueError(f"{name} {value!r} is not an even number of pixels >= 2")
        if self.preset not in PRESETS:
            raise ValueError(f"preset {self.preset!r} is not one of {', '.join(PRESETS)}")

    @classmethod
    def parse(cls, text: str, base: "Encoding | None" = None) -> "Encoding":
        """``"container=mp4,crf=23,height=720"`` on top of ``base`` (default settings).

        Raises ValueError naming an unknown key, a missing ``=`` or a bad value.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        changes: dict[str, str | int] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"encoding option {item!r} is not KEY=VALUE")
            if key not in fields:
                raise ValueError(
                    f"unknown encoding option {key!r}: expected one of {', '.join(fields)}"
                )
            value = value.strip()
            if key in ("crf", "width", "height"):
                try:
                    changes[key] = int(value)
                except ValueError:
                    raise ValueError(
                        f"encoding option {key}={value!r} is not a whole number"
                    ) from None
            else:
                changes[key] = value
        # each value's type is checked by __post_init__, with a message naming it
        return dataclasses.replace(base or cls(), **changes)  # type: ignore[arg-type]

    @classmethod
    def for_path(cls, path: str | os.PathLike[str]) -> "Encoding":
        """Default settings in the container that the file's extension names."""
        ext = os.path.splitext(os.fspath(path))[1].lower()
        if ext not in EXTENSIONS:
            raise ValueError(
                f"cannot tell the container from {os.fspath(path)!r}: "
                f"use one of {', '.join(EXTENSIONS)} or give --encoding container=..."
            )
        return cls(container=EXTENSIONS[ext])

    @property
    def seekable_output(self) -> bool:
        """True if ffmpeg must write a seekable file (mp4 with its index at the front)."""
        return self.container == "mp4"


def require_encoding(value: object) -> Encoding:
    """``value`` if it is an Encoding; TypeError otherwise (a full cut needs one)."""
    if not isinstance(value, Encoding):
        raise TypeError(f"encoding must be an Encoding, got {value!r}")
    return value
