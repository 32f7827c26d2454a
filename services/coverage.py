"""``fastseg coverage``: what a segment archive holds, per channel and quality.

For each quality: the hours present, the segments chosen (the best per start,
as selection sees them), how many are complete, the holes between them and
the time covered. A quick health check of a node's disk, and of a backfill.
"""

import datetime as dt
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field

import fastseg
from services.common import archive
from services.common.service import argument_parser, setup_logging

logger = logging.getLogger(__name__)


@dataclass
class QualityCoverage:
    channel: str
    quality: str
    hours: int = 0
    segments: int = 0
    complete: int = 0
    covered_seconds: float = 0.0
    first: str | None = None
    last: str | None = None
    holes: list[tuple[str, str]] = field(default_factory=list)


def _dirs(path: str) -> list[str]:
    try:
        return sorted(d for d in os.listdir(path) if not d.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


def quality_coverage(base: str, channel: str, quality: str) -> QualityCoverage:
    """Select everything in BASE/CHANNEL/QUALITY at once and note where the holes fall."""
    cov = QualityCoverage(channel, quality)
    hours_path = os.path.join(base, channel, quality)
    starts = [fastseg.hour_start(h) for h in _dirs(hours_path)]
    starts = sorted(h for h in starts if h is not None)
    cov.hours = len(starts)
    if not starts:
        return cov
    chosen = fastseg.get_best_segments(hours_path, starts[0], starts[-1] + dt.timedelta(hours=1))
    segments = [s for s in chosen if s is not None]
    if not segments:
        return cov
    cov.first, cov.last = segments[0].start.isoformat(), segments[-1].end.isoformat()
    cov.segments = len(segments)
    cov.complete = sum(not s.is_partial for s in segments)
    cov.covered_seconds = sum(s.duration.total_seconds() for s in segments)
    for before, hole, after in zip(chosen, chosen[1:], chosen[2:], strict=False):
        if hole is None and before is not None and after is not None:
            cov.holes.append((before.end.isoformat(), after.start.isoformat()))
    return cov


def archive_coverage(base: str, channel: str | None = None, quality: str | None = None):
    channels = [channel] if channel else archive.channels(base)
    return [
        quality_coverage(base, ch, q)
        for ch in channels
        for q in ([quality] if quality else archive.qualities(base, ch))
    ]


def render(report: list[QualityCoverage]) -> str:
    if not report:
        return "no segments found"
    lines = []
    for c in report:
        lines.append(
            f"{c.channel}/{c.quality}: {c.hours} hours, {c.segments} segments "
            f"({c.complete} complete), {c.covered_seconds / 60:.1f} minutes "
            f"from {c.first} to {c.last}, {len(c.holes)} holes"
        )
        lines += [f"  hole {a} .. {b}" for a, b in c.holes[:20]]
        if len(c.holes) > 20:
            lines.append(f"  ... and {len(c.holes) - 20} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser("coverage", __doc__.splitlines()[0], service=False)
    parser.add_argument("--channel", help="only this channel")
    parser.add_argument("--quality", help="only this quality")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    if not os.path.isdir(args.base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory")
    report = archive_coverage(args.base_dir, args.channel, args.quality)
    print(json.dumps([asdict(c) for c in report], indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
