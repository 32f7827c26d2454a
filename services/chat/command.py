"""``fastseg chat moments``: the bursts of a channel's recorded chat, newest range first.

Reads the chat batches under BASE/CHANNEL/chat (docs/DESIGN.md#finding-the-moments):
a moment is a run of 10-second bins several times busier than the minutes before,
or holding several messages with one of the team's keywords.
"""

import argparse
import json
import os
import sys

from services.archive import chat, chat_rate, times
from services.archive.names import check_name
from services.archive.readable import utc
from services.runtime.service import argument_parser, setup_logging

#: The longest range read at once: a week and a day.
MAX_RANGE_SECONDS = 8 * 86400


def _channel(text: str) -> str:
    try:
        return check_name(text, "channel")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argument_parser("chat", __doc__.splitlines()[0], service=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    moments = commands.add_parser("moments", help="list the chat's bursts in a range")
    moments.add_argument("--channel", required=True, type=_channel, help="the channel")
    moments.add_argument(
        "--since", type=times.since_argument, default="2h",
        help="from this long ago (2h, 30m, 7d) or this time (default: 2h)",
    )  # fmt: skip
    moments.add_argument(
        "--until", type=times.argument, default=None, help="up to this time (default: now)"
    )
    moments.add_argument(
        "--keywords", default="clip",
        help="comma-separated words whose messages mark a moment on their own "
             "(default: clip; empty for none)",
    )  # fmt: skip
    moments.add_argument(
        "--factor", type=float, default=chat_rate.BURST_FACTOR,
        help="a burst is this many times the median of the five minutes before "
             f"(default: {chat_rate.BURST_FACTOR:g})",
    )  # fmt: skip
    moments.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    until = args.until or times.utc_now()
    if until <= args.since:
        parser.error(f"--until {until.isoformat()} is not after --since {args.since.isoformat()}")
    start, end = times.to_timestamp(args.since), times.to_timestamp(until)
    if end - start > MAX_RANGE_SECONDS:
        parser.error(f"the range is over {MAX_RANGE_SECONDS // 86400} days: give a later --since")
    if not (args.factor > 1):
        parser.error(f"--factor {args.factor!r} must be a number over 1")
    try:
        keywords = chat_rate.check_keywords(args.keywords.split(","))
    except ValueError as exc:
        parser.error(str(exc))
    chat_dir = os.path.join(args.base_dir, args.channel, chat.CHAT)
    if not os.path.isdir(chat_dir):
        print(
            f"fastseg chat: no chat recorded for {args.channel!r} in {chat_dir!r}: "
            "check --base-dir and --channel (fastseg chat-archiver records it)",
            file=sys.stderr,
        )
        return 1
    _, moments = chat_rate.moments_in(chat_dir, start, end, keywords, factor=args.factor)
    for moment in moments:
        if args.json:
            print(json.dumps(moment.as_json(), sort_keys=True))
        else:
            reason = moment.why.replace("+", " and ")
            print(
                f"{utc(times.from_timestamp(moment.start))}  "
                f"{int(moment.end - moment.start):>4} s  peak {moment.peak_count} messages/10 s"
                f" at {utc(times.from_timestamp(moment.peak))}"
                + (f", {moment.hits} keyword hits" if moment.hits else "")
                + f" ({reason})"
            )
    return 0
