"""The cutting engine: rough, fast and full cuts of archived segments with ffmpeg.

Each cut is a generator of output bytes (for HTTP responses and uploads); closing
it early kills ffmpeg, closes its pipes and removes temp files. Segments are the
list ``fastseg.get_best_segments`` returns, MPEG-TS or fMP4 (init in front of
each file). See docs/DESIGN.md#cut-methods.

* :func:`cut` is the one entry point: any kind (``rough``, ``fast``, ``full``) of
  a clip of one range or several (:func:`parts_for` lists their segments), with
  an optional :class:`Transition` at each join. :func:`rough_container` says what
  a rough cut yields: MPEG-TS, or fragmented MP4.
* :func:`fast_cut`, :func:`full_cut`, :func:`rough_cut`, :func:`fast_cut_ranges`
  and :func:`full_cut_ranges` are what it calls, for tests and benchmarks.
* :func:`frame_times`, :func:`shown_pts`, :func:`frame_png`, :func:`video_of`,
  :func:`read_segment` and :func:`decode_audio` show the archive without cutting it
  (pictures, waveforms).
* :func:`compose`, :func:`youtube_jpeg`, :func:`check_png` and :func:`check_template`
  make thumbnails (docs/DESIGN.md#thumbnails).

Public: this package and :mod:`services.cutting.ffmpeg` (the runner of ffmpeg
children: limits, progress). The other modules are the engine's own; services
import nothing from them (tests/test_layers.py checks it).
"""

from services.cutting.audio import AudioRun, decode_audio
from services.cutting.encoding import Encoding
from services.cutting.errors import CutError, Damaged
from services.cutting.fast import fast_cut
from services.cutting.frames import FrameTimes, frame_png, frame_times, shown_pts
from services.cutting.full import full_cut
from services.cutting.kinds import KINDS, Kind, cut
from services.cutting.parts import Part, parts_for
from services.cutting.ranges import fast_cut_ranges, full_cut_ranges
from services.cutting.rough import rough_container, rough_cut
from services.cutting.source import read as read_segment
from services.cutting.source import video_of
from services.cutting.thumbnails import (
    MAX_IMAGE_BYTES,
    YOUTUBE_SIZE,
    BadImage,
    check_png,
    check_template,
    compose,
    youtube_jpeg,
)
from services.ranges import Transition

__all__ = [
    "KINDS",
    "MAX_IMAGE_BYTES",
    "YOUTUBE_SIZE",
    "BadImage",
    "AudioRun",
    "CutError",
    "Damaged",
    "Encoding",
    "FrameTimes",
    "Kind",
    "Part",
    "Transition",
    "check_png",
    "check_template",
    "compose",
    "cut",
    "decode_audio",
    "fast_cut",
    "fast_cut_ranges",
    "frame_png",
    "frame_times",
    "full_cut",
    "full_cut_ranges",
    "parts_for",
    "read_segment",
    "rough_container",
    "rough_cut",
    "shown_pts",
    "video_of",
    "youtube_jpeg",
]
