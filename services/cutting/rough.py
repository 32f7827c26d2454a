"""Rough cut: the chosen segments joined as they are, no re-encode (docs/DESIGN.md#cut-methods).

MPEG-TS segments are concatenated byte for byte, as wubloader's rough cut does:
the cheapest cut there is, and provably the archive's own bytes. Across a hole
nothing marks the jump, so players may report continuity errors (or a time
jump) there; a fast or full cut is clean. fMP4 segments become one fragmented
MP4: the init section once, then every segment's fragments untouched.
Not frame-exact: whole segments, so it may start and end up to a segment early/late.
"""

import logging
from collections.abc import Iterator, Sequence

from fastseg import SegmentInfo
from services.cutting import fmp4, source
from services.cutting.errors import CutError

logger = logging.getLogger(__name__)


def rough_container(segments: Sequence[SegmentInfo | None]) -> str:
    """What a rough cut of these segments yields: ``'ts'`` or ``'fmp4'`` (their container).

    For a Content-Type: ``video/MP2T`` or ``video/mp4``. CutError if there is no
    segment, or the first is neither.
    """
    first = source.runs(segments, allow_holes=True)[0].segments[0]
    with open(first.path, "rb") as f:
        return source.container(f.read(512), first.path)


def rough_cut(
    segments: Sequence[SegmentInfo | None], *, allow_holes: bool = False
) -> Iterator[bytes]:
    """The segments' bytes joined into one stream, as they are read.

    Raises fastseg.ContainsHoles for holes unless ``allow_holes``, and CutError
    for unreadable or unrecognised segments, or fMP4 whose init section changes.
    """
    runs = source.runs(segments, allow_holes)
    kind = rough_container(runs[0].segments)
    if kind == "ts":
        return _rough_ts(runs)
    return _rough_fmp4(runs)


def _rough_ts(runs: list[source.Run]) -> Iterator[bytes]:
    for run in runs:
        for seg in run.segments:
            yield from source.chunks(seg)


def _rough_fmp4(runs: list[source.Run]) -> Iterator[bytes]:
    current_init = None
    for run in runs:
        for seg in run.segments:
            data = source.read(seg)
            source.container(data, seg.path)
            try:
                init, fragments = fmp4.split(data)
            except ValueError as e:
                raise CutError(f"segment {seg.path!r} is corrupt: {e}") from e
            if current_init is None:
                current_init = init
                yield init
            elif init and init != current_init:
                raise CutError(
                    f"the codec parameters change at {seg.path!r} (a new init section): "
                    "a rough cut of fMP4 cannot cross that; use a fast or full cut"
                )
            yield fragments
