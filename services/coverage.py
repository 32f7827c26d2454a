"""``fastseg coverage``: what a segment archive holds, per channel and quality.

For each quality: the hours present, the segments (the best per start, as
selection sees them), how many are complete, the time covered by complete and by
partial or suspect video, and the holes between the first and last video, each
with its UTC start and length. ``--svg FILE`` draws the channel's coverage map.
Computed from the segment names only: no segment file is opened.
"""

import json
import logging
import os
import sys

from services.archive import coverage, layout
from services.archive.coverage_svg import render_svg
from services.archive.readable import count, duration, utc
from services.runtime.service import argument_parser, setup_logging

logger = logging.getLogger(__name__)

HOLES_SHOWN = 20


class Unknown(Exception):
    """A channel or quality that is not in the archive; the message says what is."""


def _pick(have: list[str], wanted: str | None, what: str, where: str) -> list[str]:
    if wanted is None:
        return have
    if wanted not in have:
        listed = ", ".join(have) if have else "none"
        plural = "qualities" if what == "quality" else f"{what}s"
        raise Unknown(f"no {what} {wanted!r} in {where} ({plural} there: {listed})")
    return [wanted]


def channel_report(base: str, channel: str, quality: str | None = None):
    """``(qualities, cells by quality, summaries)`` for one channel of the archive."""
    channel_path = os.path.join(base, channel)
    qualities = _pick(layout.qualities(base, channel), quality, "quality", channel_path)
    extent = coverage.channel_extent(channel_path, qualities)
    cells, summaries = {}, []
    for q in qualities:
        hours_path = os.path.join(channel_path, q)
        cells[q] = coverage.quality_cells(hours_path, q, *extent) if extent else []
        hours = len(coverage.hours_present(hours_path))
        summaries.append(coverage.summarise(q, cells[q], hours))
    return qualities, cells, summaries


def _summary_json(channel: str, s: coverage.QualitySummary) -> dict:
    return {
        "channel": channel,
        "quality": s.quality,
        "hours": s.hours,
        "segments": s.segments,
        "complete": s.complete,
        "covered_seconds": round(s.full_seconds, 6),
        "partial_seconds": round(s.partial_seconds, 6),
        "first": utc(s.first) if s.first else None,
        "last": utc(s.last) if s.last else None,
        "holes": [
            {"start": utc(a), "end": utc(b), "seconds": (b - a).total_seconds()} for a, b in s.holes
        ],
    }


def _summary_text(channel: str, s: coverage.QualitySummary) -> list[str]:
    head = (
        f"{channel}/{s.quality}: {count(s.hours, 'hour')}, {count(s.segments, 'segment')} "
        f"({s.complete:,} complete), {duration(s.full_seconds)} complete"
    )
    if s.partial_seconds:
        head += f" and {duration(s.partial_seconds)} partial or suspect"
    if s.first is None:
        return [f"{channel}/{s.quality}: {count(s.hours, 'hour')}, no segments"]
    missing = sum((b - a).total_seconds() for a, b in s.holes)
    lines = [
        f"{head}, from {utc(s.first)} to {utc(s.last)}, {count(len(s.holes), 'hole')}"
        + (f" ({duration(missing)} missing)" if s.holes else "")
    ]
    for a, b in s.holes[:HOLES_SHOWN]:
        lines.append(f"  hole {utc(a)} to {utc(b)} ({duration((b - a).total_seconds())})")
    if len(s.holes) > HOLES_SHOWN:
        lines.append(f"  ... and {count(len(s.holes) - HOLES_SHOWN, 'more hole')}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser("coverage", __doc__.splitlines()[0], service=False)
    parser.add_argument("--channel", help="only this channel")
    parser.add_argument("--quality", help="only this quality")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--svg", metavar="FILE", help="also write the channel's coverage map")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    if not os.path.isdir(args.base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory")
    try:
        channels = _pick(layout.channels(args.base_dir), args.channel, "channel", args.base_dir)
        if args.quality and not args.channel:  # the channels that have it, if any does
            having = [c for c in channels if layout.is_quality(args.base_dir, c, args.quality)]
            channels = having or channels[:1]  # none: the first one's error says what exists
        if args.svg and len(channels) != 1:
            raise Unknown(f"--svg draws one channel: give --channel (one of {', '.join(channels)})")
        reports = [(ch, *channel_report(args.base_dir, ch, args.quality)) for ch in channels]
    except Unknown as exc:
        print(f"fastseg coverage: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:  # the archive's, not ours to hide (services.archive.layout)
        print(f"fastseg coverage: cannot read the archive: {exc}", file=sys.stderr)
        return 1
    if args.svg:
        channel, qualities, cells, _ = reports[0]
        try:
            with open(args.svg, "w", encoding="utf-8") as f:
                f.write(render_svg(channel, qualities, cells))
        except OSError as exc:
            print(f"fastseg coverage: cannot write --svg {args.svg!r}: {exc}", file=sys.stderr)
            return 1
    if args.json:
        text = json.dumps([_summary_json(ch, s) for ch, _, _, ss in reports for s in ss], indent=2)
    else:
        lines = [line for ch, _, _, ss in reports for s in ss for line in _summary_text(ch, s)]
        text = "\n".join(lines) if lines else "no segments found"
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # the reader went away (| head): say nothing more, and exit without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
