"""``fastseg cut``: cut one clip from the archive to a file (DESIGN.md §7, issue #3).

    fastseg cut --base-dir B --channel C --quality Q --start T --end T
                [--type rough|fast|full] [--allow-holes] [--encoding K=V,...] -o OUT
    fastseg cut ... --range T T --range T T [--transition TYPE:SECONDS|none ...] -o OUT

The clip is written to a hidden temp file beside OUT and renamed into place only
when the cut succeeded, so a failed cut never leaves a half-written OUT.
"""

import datetime as dt
import logging
import os
import sys

from fastseg import ContainsHoles, get_best_segments
from services.common.cutting import (
    CutError,
    Encoding,
    Transition,
    fast_cut,
    fast_cut_ranges,
    full_cut,
    full_cut_ranges,
    rough_cut,
)
from services.common.cutting.ranges import check_ranges, parts_for
from services.common.service import argument_parser, setup

logger = logging.getLogger(__name__)

EXIT_FAILED = 1


def parse_time(text: str) -> dt.datetime:
    """ISO 8601 UTC (``2026-11-27T17:05:12.5``, fraction optional) as a naive datetime."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time like 2026-11-27T17:05:12.5") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def build_parser():
    parser = argument_parser("cut", "Cut one clip from the archive to a file.")
    parser.add_argument("--channel", required=True, help="channel directory under BASE")
    parser.add_argument("--quality", required=True, help="quality directory under the channel")
    parser.add_argument("--start", help="UTC start, ISO 8601 (or give --range)")
    parser.add_argument("--end", help="UTC end, ISO 8601 (exclusive)")
    parser.add_argument(
        "--range",
        nargs=2,
        action="append",
        metavar=("START", "END"),
        dest="ranges",
        help="a range of the clip; repeat for several, joined in order (fast or full cuts)",
    )
    parser.add_argument(
        "--transition",
        action="append",
        dest="transitions",
        metavar="TYPE:SECONDS",
        help="how each join of --range's goes: fade:1 (through black), crossfade:0.5, "
        "or none (a hard cut, the default); one per join, in order",
    )
    parser.add_argument(
        "--type",
        choices=["rough", "fast", "full"],
        default="fast",
        help="rough: whole segments; fast: frame-exact, re-encodes the edges (MPEG-TS); "
        "full: re-encodes everything (default: fast)",
    )
    parser.add_argument(
        "--allow-holes", action="store_true", help="cut across missing video instead of failing"
    )
    parser.add_argument(
        "--encoding",
        default=None,
        help="full cut settings, e.g. 'crf=20,height=720' (keys: container, video_codec, "
        "audio_codec, crf, video_bitrate, audio_bitrate, width, height, preset); "
        "the container defaults to OUT's extension",
    )
    parser.add_argument("-o", "--output", required=True, help="output file")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ranges and (args.start or args.end):
        parser.error("give --start/--end or --range, not both")
    if not args.ranges and not (args.start and args.end):
        parser.error("give --start and --end, or one --range START END per range")
    try:
        spans = [(parse_time(a), parse_time(b)) for a, b in args.ranges or [(args.start, args.end)]]
    except ValueError as e:
        parser.error(str(e))
    if not args.ranges and spans[0][1] <= spans[0][0]:
        parser.error(f"--end {args.end!r} is not after --start {args.start!r}")
    transitions = None
    try:
        if args.transitions:
            if not args.ranges:
                raise ValueError("--transition joins ranges: give them with --range")
            transitions = [Transition.parse(t) for t in args.transitions]
        if args.ranges:
            transitions = check_ranges(spans, transitions)
    except ValueError as e:
        parser.error(str(e))
    if args.ranges and len(spans) > 1 and args.type == "rough":
        parser.error("a rough cut takes one range: use --type fast or full for several")
    start, end = spans[0][0], spans[-1][1]
    encoding = None
    if args.type == "full":
        try:
            base = None
            if "container=" not in (args.encoding or ""):
                base = Encoding.for_path(args.output)
            encoding = Encoding.parse(args.encoding or "", base)
        except ValueError as e:
            parser.error(f"--encoding: {e}")
    elif args.encoding is not None:
        parser.error(f"--encoding only applies to --type full, not {args.type!r}")
    setup(args)

    hours = os.path.join(args.base_dir, args.channel, args.quality)
    if not os.path.isdir(hours):
        print(f"fastseg cut: no such channel and quality: {hours!r} is not a directory",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    out = os.path.abspath(args.output)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.part")
    try:
        if len(spans) > 1:
            parts = parts_for(hours, spans, args.allow_holes)
        else:
            segments = get_best_segments(hours, start, end, allow_holes=args.allow_holes)
        if len(spans) > 1 and args.type == "fast":
            cut = fast_cut_ranges(parts, transitions, allow_holes=args.allow_holes)
        elif len(spans) > 1:
            cut = full_cut_ranges(parts, transitions, encoding, allow_holes=args.allow_holes)
        elif args.type == "rough":
            cut = rough_cut(segments, allow_holes=args.allow_holes)
        elif args.type == "fast":
            cut = fast_cut(segments, start, end, allow_holes=args.allow_holes)
        else:
            cut = full_cut(segments, start, end, encoding, allow_holes=args.allow_holes)
        size = 0
        with open(tmp, "wb") as f:
            for chunk in cut:
                f.write(chunk)
                size += len(chunk)
        os.replace(tmp, out)
    except ContainsHoles as e:
        print(f"fastseg cut: {e}; use --allow-holes to cut across it", file=sys.stderr)
        return EXIT_FAILED
    except (CutError, OSError) as e:
        print(f"fastseg cut: {e}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    logger.info("wrote %s cut of %d bytes to %r", args.type, size, out)
    return 0
