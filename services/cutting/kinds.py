"""The one entry point of the engine: any kind of cut, of one range or several.

Callers (the ``fastseg cut`` command, the restreamer's ``/cut`` route, the
cutter) name a kind and pass the clip's ranges with their segments; which cut
function makes it, and how one range differs from several, is decided here and
nowhere else (docs/DESIGN.md#cut-methods).
"""

from collections.abc import Iterator, Sequence
from typing import Literal

from services.cutting.encoding import Encoding, require_encoding
from services.cutting.parts import Part
from services.cutting.ranges import fast_cut_ranges, full_cut_ranges
from services.cutting.rough import rough_cut
from services.ranges import Transition, check_ranges

Kind = Literal["rough", "fast", "full"]
#: The kinds of cut, cheapest first.
KINDS: tuple[Kind, ...] = ("rough", "fast", "full")


def cut(
    parts: Sequence[Part],
    kind: str,
    transitions: Sequence[Transition | None] | None = None,
    encoding: Encoding | None = None,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """The clip's bytes: ``parts`` are (segments, start, end) per range, joined in order
    with ``transitions`` (one per join, None for a hard cut).

    ``rough`` joins whole segments (one range only); ``fast`` is frame-exact MPEG-TS;
    ``full`` re-encodes to ``encoding``, which only it takes. Checked and planned
    before this returns: ValueError for a bad kind, range or transition,
    TypeError for a full cut without an Encoding, fastseg.ContainsHoles for holes
    unless ``allow_holes``, CutError for segments that cannot be cut. While
    iterating, CutError if ffmpeg fails; closing the generator early stops it.
    """
    if kind not in KINDS:
        raise ValueError(f"cut kind {kind!r} is not one of {', '.join(KINDS)}")
    if encoding is not None and kind != "full":
        raise ValueError(f"an encoding is for a full cut, not a {kind} one")
    if kind == "fast":
        return fast_cut_ranges(parts, transitions, allow_holes=allow_holes)
    if kind == "full":
        encoding = require_encoding(encoding)
        return full_cut_ranges(parts, transitions, encoding, allow_holes=allow_holes)
    check_ranges([(start, end) for _, start, end in parts], transitions)
    if len(parts) > 1:
        raise ValueError("a rough cut takes one range: use a fast or full cut for several")
    return rough_cut(parts[0][0], allow_holes=allow_holes)
