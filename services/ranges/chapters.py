"""Chapter markers: stream times placed on a clip's ranges, written as YouTube reads them.

An editor marks a chapter at a moment of the stream; the published video knows
only its own time, which starts at 0 with the first range and loses each
transition's seconds at its join (the two ranges overlap for that long). The
lines go into the description below wubloader's delimiter (a line of ten
``=``), one ``M:SS - Title`` each (``H:MM:SS`` from an hour on), which is where
wubloader's editor writes and reads them. YouTube makes chapters of such lines
when the first is at 0:00, there are at least three, and each lasts at least
10 seconds (docs/DESIGN.md#publishing).
"""

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Sequence

from services.ranges.transitions import Transition

__all__ = [
    "DELIMITER",
    "MIN_CHAPTERS",
    "MIN_SECONDS",
    "Chapter",
    "check_chapters",
    "clip_duration",
    "clip_offset",
    "format_time",
    "parse_lines",
    "split_description",
    "with_chapters",
]

DELIMITER = "=========="  # wubloader's: its own line between the text and the chapters
MIN_CHAPTERS = 3  # YouTube's rules for chapters
MIN_SECONDS = 10
_LINE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2}) - (.+)", re.ASCII)

Ranges = Sequence[tuple[dt.datetime, dt.datetime]]


@dataclasses.dataclass(frozen=True)
class Chapter:
    """A chapter at ``seconds`` of the clip's own time (whole seconds, as written)."""

    seconds: int
    title: str


def _joins(ranges: Ranges, transitions: Sequence[Transition | None] | None) -> list[float]:
    """Seconds each join takes off the clip (0 for a hard cut)."""
    joins = list(transitions or [None] * (len(ranges) - 1))
    return [0.0 if t is None else t.seconds for t in joins]


def clip_duration(ranges: Ranges, transitions: Sequence[Transition | None] | None = None) -> float:
    """Seconds of the cut clip: the ranges less the transitions' overlaps."""
    total = sum((end - start).total_seconds() for start, end in ranges)
    return total - sum(_joins(ranges, transitions))


def clip_offset(
    ranges: Ranges, transitions: Sequence[Transition | None] | None, when: dt.datetime
) -> float:
    """Seconds into the clip at which stream time ``when`` plays.

    Range k starts where range k-1 ends, less the transition joining them.
    Raises ValueError if ``when`` is in no range.
    """
    joins = _joins(ranges, transitions)
    offset = 0.0
    for i, (start, end) in enumerate(ranges):
        if i:
            offset -= joins[i - 1]
        if start <= when < end:
            return offset + (when - start).total_seconds()
        offset += (end - start).total_seconds()
    raise ValueError(
        f"chapter time {when.isoformat()} is in none of the clip's ranges: "
        "put it inside a range, or move the range"
    )


def format_time(seconds: int) -> str:
    """``M:SS``, or ``H:MM:SS`` from an hour on, as YouTube reads chapter times."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def split_description(description: str) -> tuple[str, str | None]:
    """``(the editor's own text, the chapter lines or None)`` of a stored description."""
    text, found, lines = description.partition("\n" + DELIMITER + "\n")
    return (text, lines) if found else (description, None)


def parse_lines(lines: str) -> list[Chapter]:
    """Chapters from ``M:SS - Title`` lines; ValueError names a line that is not one."""
    chapters = []
    for line in lines.split("\n"):
        match = _LINE.fullmatch(line.strip())
        if match is None:
            raise ValueError(
                f"chapter line {line[:60]!r} is not 'M:SS - Title': write chapters so, one a "
                f"line, below a line of {DELIMITER}"
            )
        hours, minutes, secs, title = match.groups()
        if int(secs) >= 60 or (hours and int(minutes) >= 60):
            raise ValueError(f"chapter line {line[:60]!r} has a time that is not M:SS or H:MM:SS")
        chapters.append(Chapter(int(hours or 0) * 3600 + int(minutes) * 60 + int(secs), title))
    return chapters


def with_chapters(
    description: str,
    chapters: Sequence[tuple[dt.datetime, str]],
    ranges: Ranges,
    transitions: Sequence[Transition | None] | None = None,
) -> str:
    """The description to store: the editor's text and, below the delimiter, the chapters
    (stream times converted to the clip's, in order). No chapters: the text alone.

    Raises ValueError for a chapter outside the ranges, an empty or multi-line
    title, two chapters at one second, or a description that already holds the delimiter.
    """
    if not chapters:
        return description
    if DELIMITER in description:
        raise ValueError(
            f"the description holds {DELIMITER}, the line chapters are written below: "
            "remove it, and give the chapters as chapters"
        )
    placed: dict[int, str] = {}
    for when, title in chapters:
        title = title.strip()
        if not title or "\n" in title or "\r" in title:
            raise ValueError(f"chapter title {title[:60]!r} must be one line of text")
        seconds = math.floor(clip_offset(ranges, transitions, when))
        if seconds in placed:
            raise ValueError(
                f"chapters {placed[seconds]!r} and {title!r} are both at "
                f"{format_time(seconds)} of the clip: move one"
            )
        placed[seconds] = title
    lines = [f"{format_time(s)} - {placed[s]}" for s in sorted(placed)]
    return description + "\n" + DELIMITER + "\n" + "\n".join(lines)


def check_chapters(description: str, duration: float) -> list[Chapter]:
    """The chapters of a stored description, checked against YouTube's rules for a
    clip of ``duration`` seconds; ValueError says which rule a chapter breaks."""
    _, lines = split_description(description)
    if lines is None:
        return []
    chapters = parse_lines(lines)
    if chapters[0].seconds != 0:
        raise ValueError(
            f"the first chapter ({chapters[0].title!r}) is at {format_time(chapters[0].seconds)}"
            " of the clip: YouTube needs the first at 0:00 (the start of the first range)"
        )
    if len(chapters) < MIN_CHAPTERS:
        raise ValueError(
            f"{len(chapters)} chapter(s): YouTube shows chapters only from {MIN_CHAPTERS} on; "
            "add more or remove them all"
        )
    ends = [c.seconds for c in chapters[1:]] + [duration]
    for chapter, end in zip(chapters, ends, strict=True):
        if end - chapter.seconds < MIN_SECONDS:
            raise ValueError(
                f"chapter {chapter.title!r} at {format_time(chapter.seconds)} lasts "
                f"{max(0.0, end - chapter.seconds):g} s: YouTube needs each chapter to last "
                f"at least {MIN_SECONDS} s"
            )
    return chapters
