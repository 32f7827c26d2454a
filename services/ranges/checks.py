"""What makes a list of ranges cuttable: each non-empty, in order, not overlapping,
with transitions that fit between them. Checked before anything is written or cut."""

import datetime as dt
from collections.abc import Sequence

from services.ranges.transitions import Transition


def check_range(start: dt.datetime, end: dt.datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or value.tzinfo is not None:
            raise ValueError(f"{name} must be a naive UTC datetime, got {value!r}")
    if end <= start:
        raise ValueError(
            f"end {end.isoformat()} is not after start {start.isoformat()}: nothing to cut"
        )


def as_pairs(ranges: Sequence[Sequence[dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[[start, end], ...]`` (the database's and JSON's form) as pairs; ValueError if one
    is not a pair."""
    pairs = []
    for r in ranges:
        if len(r) != 2:
            raise ValueError(f"video_ranges {list(ranges)!r} are not [start, end] pairs")
        pairs.append((r[0], r[1]))
    return pairs


def check_ranges(
    ranges: Sequence[tuple[dt.datetime, dt.datetime]],
    transitions: Sequence[Transition | None] | None = None,
) -> list[Transition | None]:
    """Validate ranges (at least one, each non-empty, in order, not overlapping) and
    the transitions between them (one per join; each at most the shorter neighbour,
    and a range not used up by the transitions at both its ends)."""
    if not ranges:
        raise ValueError("no range to cut: give at least one START,END")
    for start, end in ranges:
        check_range(start, end)
    for (_, prev_end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start < prev_end:
            raise ValueError(
                f"range starting {start.isoformat()} begins before the previous one ends "
                f"({prev_end.isoformat()}): give ranges in order, not overlapping"
            )
    transitions = list(transitions or [None] * (len(ranges) - 1))
    if len(transitions) != len(ranges) - 1:
        raise ValueError(
            f"{len(transitions)} transitions for {len(ranges)} ranges: give one per join "
            f"({len(ranges) - 1}), 'none' for a hard cut"
        )
    for i, t in enumerate(transitions):
        if t is None:
            continue
        shorter = min(ranges[i][1] - ranges[i][0], ranges[i + 1][1] - ranges[i + 1][0])
        if t.delta > shorter:
            raise ValueError(
                f"{t.kind} of {t.seconds:g} s is longer than the shorter range beside it "
                f"({shorter.total_seconds():g} s): shorten it"
            )
    for i, (start, end) in enumerate(ranges):
        around = [transitions[i - 1] if i else None]
        around += transitions[i : i + 1]
        used = sum((t.delta for t in around if t is not None), dt.timedelta())
        if used >= end - start:
            raise ValueError(
                f"the transitions at both ends of range {start.isoformat()} to "
                f"{end.isoformat()} use all of it: shorten them or the range"
            )
    return transitions
