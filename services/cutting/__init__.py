"""The cutting engine: rough, fast and full cuts of archived segments with ffmpeg.

Each cut is a generator of output bytes (for HTTP responses and uploads); closing
it early kills ffmpeg, closes its pipes and removes temp files. Segments are the
list ``fastseg.get_best_segments`` returns, MPEG-TS or fMP4 (init in front of
each file). See docs/DESIGN.md#cut-methods.

* :func:`rough_cut` joins whole segments as they are, in their container
  (:func:`rough_container` says which: MPEG-TS, or fragmented MP4).
* :func:`fast_cut` is frame-exact MPEG-TS: only the video between each cut and the
  keyframe next to it is re-encoded.
* :func:`full_cut` re-encodes the range to an :class:`Encoding`.
* :func:`fast_cut_ranges` and :func:`full_cut_ranges` cut several ranges joined in
  order, with an optional :class:`Transition` at each join.
"""

from services.cutting.encoding import Encoding
from services.cutting.errors import CutError, Damaged
from services.cutting.fast import fast_cut
from services.cutting.full import full_cut
from services.cutting.ranges import fast_cut_ranges, full_cut_ranges
from services.cutting.rough import rough_container, rough_cut
from services.ranges import Transition

__all__ = [
    "CutError",
    "Damaged",
    "Encoding",
    "Transition",
    "fast_cut",
    "fast_cut_ranges",
    "full_cut",
    "full_cut_ranges",
    "rough_container",
    "rough_cut",
]
