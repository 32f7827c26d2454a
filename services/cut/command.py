"""``fastseg cut``: cut one clip from the archive to a file (docs/DESIGN.md#cut-methods).

    fastseg cut --base-dir B --channel C --quality Q --start T --end T
                [--type rough|fast|full] [--allow-holes] [--encoding K=V,...] -o OUT
    fastseg cut ... --range T T --range T T [--transition TYPE:SECONDS|none ...] -o OUT

The clip is written to a hidden temp file beside OUT and renamed into place only
when the cut succeeded, so a failed cut never leaves a half-written OUT.
"""

import contextlib
import logging
import os
import sys

from fastseg import ContainsHoles
from services.archive import times
from services.cut.progress import ProgressBar
from services.cutting import CutError, Encoding, Transition, cut, parts_for
from services.cutting.ffmpeg import progress_to
from services.ranges import check_ranges
from services.runtime.service import argument_parser, setup_logging

logger = logging.getLogger(__name__)

EXIT_FAILED = 1


def _end_bar(bar: ProgressBar | None) -> None:
    """Before an error: end the bar's line, so the message starts a line of its own."""
    if bar is not None:
        sys.stderr.write("\n")


def build_parser():
    parser = argument_parser("cut", "Cut one clip from the archive to a file.", service=False)
    parser.epilog = f"TIME: {times.HELP}."
    parser.add_argument("--channel", required=True, help="channel directory under BASE")
    parser.add_argument("--quality", required=True, help="quality directory under the channel")
    parser.add_argument("--start", metavar="TIME", help="start of the clip (or give --range)")
    parser.add_argument("--end", metavar="TIME", help="end of the clip (exclusive)")
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
        help="rough: whole segments, their bytes concatenated (players may report "
        "continuity errors at holes); fast: frame-exact, re-encodes the edges (MPEG-TS); "
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
        spans = [
            (times.parse(a), times.parse(b)) for a, b in args.ranges or [(args.start, args.end)]
        ]
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
    setup_logging(args.log_level)

    hours = os.path.join(args.base_dir, args.channel, args.quality)
    if not os.path.isdir(hours):
        print(f"fastseg cut: no such channel and quality: {hours!r} is not a directory",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    out = os.path.abspath(args.output)
    tmp = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.part")
    bar = None
    try:
        parts = parts_for(hours, spans, args.allow_holes)
        clip = cut(parts, args.type, transitions, encoding, allow_holes=args.allow_holes)
        size = 0
        bar = (
            ProgressBar(sum((b - a).total_seconds() for a, b in spans), sys.stderr)
            if sys.stderr.isatty()
            else None
        )
        reporting = progress_to(bar.update) if bar else contextlib.nullcontext()
        with open(tmp, "wb") as f, reporting:
            for chunk in clip:
                f.write(chunk)
                size += len(chunk)
        if bar is not None:
            bar.finish()
        os.replace(tmp, out)
    except ContainsHoles as e:
        _end_bar(bar)
        print(f"fastseg cut: {e}; use --allow-holes to cut across it", file=sys.stderr)
        return EXIT_FAILED
    except (CutError, OSError) as e:
        _end_bar(bar)
        print(f"fastseg cut: {e}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    logger.info("wrote %s cut of %d bytes to %r", args.type, size, out)
    return 0
