"""What a full cut over HTTP may encode: named presets for anyone, more for editors.

Anyone may ask ``/cut?type=full&encoding=PRESET`` with a name of :data:`PRESETS`:
H.264 (``libx264``, preset ``veryfast``, CRF 23) and AAC at the named height or
the source's, whichever is smaller, so a preset never upscales. Any other
encoding (``key=value,...``) needs an editor's token (:mod:`.editor.roles`),
and is checked before anything runs: the encoders must be ones this ffmpeg
has, of the right kind, and the size at most :data:`MAX_WIDTH` x :data:`MAX_HEIGHT`.
"""

import dataclasses
import functools
import logging
import re

import gevent.lock

from services.cutting import CutError, Encoding
from services.cutting.ffmpeg import FFMPEG, FFmpeg

logger = logging.getLogger(__name__)

__all__ = ["MAX_HEIGHT", "MAX_WIDTH", "PRESETS", "check_encoders", "preset"]

#: Full-cut encodings anyone may ask for by name: the output's height (None: the source's).
PRESETS = {"source": None, "1080p": 1080, "720p": 720, "480p": 480, "360p": 360}
PRESET_ENCODING = Encoding(container="ts", video_codec="libx264", audio_codec="aac",
                           crf=23, preset="veryfast")  # fmt: skip
#: The largest picture an editor's own encoding may ask for (4K UHD; 8K is refused).
MAX_WIDTH, MAX_HEIGHT = 3840, 2160
#: The highest video bitrate an editor may ask for, in bits per second.
MAX_VIDEO_BITRATE = 100_000_000
_ENCODER_LINE = re.compile(r"^ ([VAS])[A-Z.]{5} ([A-Za-z0-9_-]+) ", re.MULTILINE)
_UNITS = {"": 1, "k": 1000, "M": 1_000_000}


def preset(name: str, source_height: int | None) -> Encoding:
    """The encoding of preset ``name`` for a source this high (never taller than it)."""
    height = PRESETS[name]
    if height is None or (source_height is not None and source_height <= height):
        return PRESET_ENCODING
    return dataclasses.replace(PRESET_ENCODING, height=height)


_listing = gevent.lock.Semaphore()


def encoders() -> dict[str, str]:
    """This ffmpeg's encoders: name -> ``V`` (video), ``A`` (audio) or ``S`` (subtitles).

    Asked of ffmpeg once a process (the restreamer asks at start, so that no
    request ever runs an ffmpeg outside the pool of jobs).
    """
    with _listing:  # concurrent first callers wait for one listing
        return _encoders()


@functools.cache
def _encoders() -> dict[str, str]:
    try:
        text = FFmpeg([FFMPEG, "-hide_banner", "-encoders"], what="ffmpeg -encoders").read_all()
    except CutError as exc:
        logger.warning("cannot list ffmpeg's encoders: %s", exc)
        return {}
    return {m[2]: m[1] for m in _ENCODER_LINE.finditer(text.decode("utf-8", "replace"))}


def check_encoders(encoding: Encoding) -> None:
    """Raise ValueError unless ffmpeg has these encoders and the size and bitrate are allowed."""
    known = encoders()
    for name, kind, word in (("video_codec", "V", "a video"), ("audio_codec", "A", "an audio")):
        value = getattr(encoding, name)
        if known.get(value) != kind:
            examples = "libx264, libx265" if kind == "V" else "aac, libopus"
            raise ValueError(f"{name} {value!r} is not {word} encoder this ffmpeg has "
                             f"(e.g. {examples}; 'ffmpeg -encoders' lists them)")  # fmt: skip
    if (encoding.width or 0) > MAX_WIDTH or (encoding.height or 0) > MAX_HEIGHT:
        raise ValueError(
            f"size {encoding.width or 'auto'}x{encoding.height or 'auto'} is larger than "
            f"{MAX_WIDTH}x{MAX_HEIGHT}: ask for a smaller width and height"
        )
    if encoding.video_bitrate:
        number, unit = re.fullmatch(r"([0-9.]+)([kM]?)", encoding.video_bitrate).groups()
        if float(number) * _UNITS[unit] > MAX_VIDEO_BITRATE:
            raise ValueError(f"video_bitrate {encoding.video_bitrate!r} is above "
                             f"{MAX_VIDEO_BITRATE // 1_000_000}M")  # fmt: skip
