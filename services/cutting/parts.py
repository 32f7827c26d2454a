"""The ranges of a clip with their segments: what the engine's :func:`cut` takes."""

import datetime as dt
from collections.abc import Sequence

import fastseg
from fastseg import SegmentInfo
from services.cutting import source
from services.cutting.errors import CutError

#: One range of a clip: its segments (``fastseg.get_best_segments``), start and end.
Part = tuple[Sequence[SegmentInfo | None], dt.datetime, dt.datetime]

_JOINS = dt.timedelta(milliseconds=10)  # segments this close join without a hole


def parts_for(
    hours: str, ranges: Sequence[tuple[dt.datetime, dt.datetime]], allow_holes: bool
) -> list[Part]:
    """Each range with its segments, listed with ``allow_holes`` (which raises
    fastseg.ContainsHoles at the first hole if false).

    With several ranges, a range that ends on a segment boundary also gets the
    segment right after it: a fast cut takes the audio that runs past a join. A
    clip of one range joins nothing, so it gets exactly the range's segments.
    """
    parts: list[Part] = []
    for start, end in ranges:
        segments = list(fastseg.get_best_segments(hours, start, end, allow_holes))
        following = _following(hours, segments, end) if len(ranges) > 1 else None
        if following is not None:
            segments.append(following)
        parts.append((segments, start, end))
    return parts


def _following(
    hours: str, segments: Sequence[SegmentInfo | None], end: dt.datetime
) -> SegmentInfo | None:
    """The readable segment that joins the last one, if that one ends by ``end``."""
    last = next((s for s in reversed(segments) if s is not None), None)
    if last is None or last.end is None or last.end > end:
        return None
    listed = fastseg.get_best_segments(hours, last.end, last.end, True)
    nxt = next((s for s in listed if s is not None), None)
    if nxt is None or nxt.path == last.path or nxt.start is None:
        return None
    if abs(nxt.start - last.end) >= _JOINS:
        return None
    try:
        source.check(nxt)
    except CutError:
        return None  # damaged: the range's audio ends with its own segment
    return nxt
