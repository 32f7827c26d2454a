"""``fastseg events``: operator commands for the events table (DESIGN.md §5).

Each subcommand is one state transition from :mod:`services.common.db.states`
(or a read). Bad ids and illegal transitions print one line and exit 1; bad
arguments exit 2, as argparse does.
"""

import argparse
import datetime as dt
import json
import logging
import os
import sys
import uuid

import fastseg.dateutil
from services.common.cutting.ranges import Transition, check_ranges, transitions_to_json
from services.common.db import (
    Database,
    DatabaseError,
    EmbeddedPostgresError,
    add_db_argument,
    apply_schema,
    database_dsn,
    states,
)
from services.common.db.schema import STATES
from services.common.service import setup_logging

logger = logging.getLogger(__name__)


def parse_time(text: str) -> dt.datetime:
    """A time as naive UTC (``2026-11-27T17:05:12.5``; with a zone it is converted)."""
    try:
        return fastseg.dateutil.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_transition(text: str) -> Transition | None:
    try:
        return Transition.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-dir",
        default=os.environ.get("FASTSEG_BASE", "."),
        help="archive root; without --db its embedded database is used "
        "(default: $FASTSEG_BASE or .)",
    )
    add_db_argument(common)
    common.add_argument(
        "--log-level",
        default=os.environ.get("FASTSEG_LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on stderr (default: WARNING)",
    )
    parser = argparse.ArgumentParser(
        prog="fastseg events", description="Look at and change the events the cutters work on."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("add", parents=[common], help="add an UNEDITED event; prints its id")
    p.add_argument("--sheet-name", required=True)
    p.add_argument("--event-start", type=parse_time, metavar="TIME")
    p.add_argument("--event-end", type=parse_time, metavar="TIME")
    p.add_argument("--category", default="")
    p.add_argument("--description", default="")
    p.add_argument("--notes", default="")

    p = sub.add_parser("edit", parents=[common], help="submit an edit: UNEDITED -> EDITED")
    p.add_argument("id")
    p.add_argument("--video-start", type=parse_time, metavar="TIME", help="or give --range")
    p.add_argument("--video-end", type=parse_time, metavar="TIME")
    p.add_argument(
        "--range",
        nargs=2,
        type=parse_time,
        action="append",
        dest="ranges",
        metavar=("START", "END"),
        help="a range of the clip; repeat for several, joined in order",
    )
    p.add_argument(
        "--transition",
        type=parse_transition,
        action="append",
        dest="transitions",
        metavar="TYPE:SECONDS",
        help="each join of the ranges, in order: fade:1 (through black), crossfade:0.5, "
        "or none (a hard cut, the default)",
    )
    p.add_argument("--title", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--channel", required=True)
    p.add_argument("--quality", default="source")
    p.add_argument("--location", required=True, help="upload location name (a cutter's --location)")
    p.add_argument("--allow-holes", action="store_true", help="cut even if some video is missing")
    p.add_argument(
        "--uploader-whitelist", type=parse_list, default=[], metavar="A,B",
        help="only these cutters may take it (default: any)",
    )  # fmt: skip
    p.add_argument("--editor", required=True, metavar="EMAIL")

    p = sub.add_parser("cancel", parents=[common], help="EDITED or CLAIMED -> UNEDITED")
    p.add_argument("id")
    p = sub.add_parser(
        "reset", parents=[common], help="back to UNEDITED, clearing error and uploader"
    )
    p.add_argument("id")
    p = sub.add_parser(
        "manual-upload", parents=[common], help="mark as uploaded by hand: straight to DONE"
    )
    p.add_argument("id")
    p.add_argument("--link", required=True, metavar="URL")

    p = sub.add_parser("list", parents=[common], help="list events")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--json", action="store_true", help="a JSON list of objects, every column")
    p = sub.add_parser("show", parents=[common], help="every column of one event")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="one JSON object")
    return parser


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):  # video_ranges: [[start, end], ...]
        return [_jsonable(v) for v in value]
    return value


def _as_dict(row) -> dict:
    return {k: _jsonable(v) for k, v in row._asdict().items()}


def _text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value) or "-"
    if isinstance(value, list):  # video_ranges, video_transitions
        return json.dumps(_jsonable(value))
    return str(_jsonable(value))


def run(args: argparse.Namespace, db: Database) -> None:
    """Do one command; raises what states raises for bad ids and illegal transitions."""
    out = sys.stdout
    if args.command == "add":
        new = states.add_event(
            db,
            args.sheet_name,
            event_start=args.event_start,
            event_end=args.event_end,
            category=args.category,
            description=args.description,
            notes=args.notes,
        )
        print(new, file=out)
    elif args.command == "edit":
        states.edit(
            db,
            args.id,
            video_start=args.video_start,
            video_end=args.video_end,
            video_title=args.title,
            video_description=args.description,
            video_channel=args.channel,
            video_quality=args.quality,
            upload_location=args.location,
            allow_holes=args.allow_holes,
            uploader_whitelist=args.uploader_whitelist,
            editor=args.editor,
            video_ranges=args.ranges,
            video_transitions=(transitions_to_json(args.transitions) if args.transitions else None),
        )
    elif args.command == "cancel":
        states.cancel(db, args.id)
    elif args.command == "reset":
        states.reset(db, args.id)
    elif args.command == "manual-upload":
        states.manual_upload(db, args.id, args.link)
    elif args.command == "list":
        rows = states.list_events(db, args.state)
        if args.json:
            json.dump([_as_dict(r) for r in rows], out, indent=2)
            out.write("\n")
        else:
            for r in rows:
                print(
                    f"{r.id}  {r.state:<11} {_text(r.event_start):<26} {r.sheet_name}"
                    + (f"  [error: {r.error}]" if r.error else ""),
                    file=out,
                )
    elif args.command == "show":
        row = states.get_event(db, args.id)
        if args.json:
            json.dump(_as_dict(row), out, indent=2)
            out.write("\n")
        else:
            width = max(map(len, row._fields))
            for name, value in zip(row._fields, row, strict=True):
                print(f"{name:<{width}}  {_text(value)}", file=out)


def _check_edit_range(parser, args) -> None:
    """--video-start/--video-end, or --range (with --transition): one of the two."""
    if args.ranges:
        if args.video_start or args.video_end:
            parser.error("give --video-start/--video-end or --range, not both")
        try:
            check_ranges(args.ranges, args.transitions)
        except ValueError as e:
            parser.error(str(e))
        args.video_start, args.video_end = args.ranges[0][0], args.ranges[-1][1]
        return
    if args.transitions:
        parser.error("--transition joins ranges: give them with --range")
    if args.video_start is None or args.video_end is None:
        parser.error("give --video-start and --video-end, or one --range START END per range")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "edit":
        _check_edit_range(parser, args)
    if args.command == "edit" and args.video_end <= args.video_start:
        parser.error(
            f"--video-end {args.video_end.isoformat()} is not after "
            f"--video-start {args.video_start.isoformat()}: the range is backwards or empty"
        )
    if (
        args.command == "add"
        and args.event_start
        and args.event_end
        and args.event_end < args.event_start
    ):
        parser.error(
            f"--event-end {args.event_end.isoformat()} is before "
            f"--event-start {args.event_start.isoformat()}"
        )
    setup_logging(args.log_level)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            db = Database(dsn, application_name="fastseg-events")
            try:
                apply_schema(db)
                run(args, db)
            finally:
                db.close()
    except (
        ValueError,  # BadEventId, an empty link
        states.BadEventId,
        states.EventNotFound,
        states.IllegalTransition,
        DatabaseError,
        EmbeddedPostgresError,
    ) as e:
        print(f"fastseg events: {e}", file=sys.stderr)
        return 1
    return 0
