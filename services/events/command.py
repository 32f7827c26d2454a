"""``fastseg events``: operator commands for the events table (docs/DESIGN.md#state-machine).

Each subcommand is one state transition from :mod:`services.db.states`
(or a read); ``import`` and ``export`` move sheet inputs to and from CSV files
(:mod:`.csvio`). Bad ids and illegal transitions print one line and exit 1; bad
arguments, and edits or manual uploads refused by
:mod:`services.db.edit_checks` (nothing written), exit 2, as argparse does.
``--base-dir`` and ``--db`` go before or after the subcommand; with neither
(nor ``$FASTSEG_BASE``) the command refuses rather than create a database.
"""

import argparse
import base64
import datetime as dt
import getpass
import json
import logging
import os
import sys
import uuid

from services.archive import times
from services.cutting import MAX_IMAGE_BYTES, check_png
from services.db import (
    Database,
    DatabaseError,
    EmbeddedPostgresError,
    add_db_argument,
    apply_schema,
    audit,
    audit_text,
    database_dsn,
    locations,
    states,
)
from services.db.edit_checks import (
    EditRefused,
    check_edit,
    check_editor,
    check_link,
    write_chapters,
)
from services.db.publishing import add_publishing_argument
from services.db.rows import Event
from services.db.schema import STATES, THUMBNAIL_MODES
from services.db.sheetrows import parse_zone
from services.db.thumbnails import thumbnail_values
from services.events import csvio
from services.ranges import Transition, check_ranges, transitions_to_json
from services.runtime.service import setup_logging

logger = logging.getLogger(__name__)


def os_user() -> str:
    """The operator's login name, for the audit trail (their uid if it has none)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no $USER and no passwd entry (a bare container)
        return str(os.getuid())


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: give YYYY-MM-DD") from None


def parse_timezone(text: str):
    try:
        return parse_zone(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_transition(text: str) -> Transition | None:
    try:
        return Transition.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_state(text: str) -> str:
    """A state in any case (``done``, ``Done``) as the table spells it."""
    return text.upper()


def _common_arguments(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """The shared options; on a subcommand without defaults, so one given before it stays."""

    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--base-dir",
        default=default(os.environ.get("FASTSEG_BASE") or None),
        help="archive root: an edit is checked against its video, and without --db its "
        "embedded database is used (default: $FASTSEG_BASE)",
    )
    add_db_argument(parser)
    if not defaults:
        (db,) = (a for a in parser._actions if a.dest == "db")
        db.default = argparse.SUPPRESS
    parser.add_argument(
        "--log-level",
        default=default(os.environ.get("FASTSEG_LOG_LEVEL", "WARNING")),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on stderr (default: WARNING)",
    )


def parse_version(text: str) -> int:
    if not states.is_version(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a version: give the number 'fastseg events show ID' prints"
        )
    return int(text)


def _if_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--if-version", type=parse_version, metavar="V",
        help="change the event only if it is still version V (see 'show'): refused, "
        "naming what changed and who changed it, if anyone wrote it since (default: any)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _common_arguments(common, defaults=False)
    parser = argparse.ArgumentParser(
        prog="fastseg events", description="Look at and change the events the cutters work on."
    )
    _common_arguments(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    time_help = f"TIME: {times.HELP}."
    p = sub.add_parser(
        "add", parents=[common], help="add an UNEDITED event; prints its id",
        description="Add an UNEDITED event (as a row of the sheet would) and print its id.",
        epilog=time_help,
    )  # fmt: skip
    p.add_argument("--sheet-name", required=True, help="the sheet (or day) the event belongs to")
    p.add_argument("--event-start", type=times.argument, metavar="TIME",
                   help="when the event began (default: unset)")  # fmt: skip
    p.add_argument("--event-end", type=times.argument, metavar="TIME",
                   help="when the event ended (default: unset)")  # fmt: skip
    p.add_argument("--category", default="", help="free text (default: empty)")
    p.add_argument("--description", default="", help="free text (default: empty)")
    p.add_argument("--notes", default="", help="free text for editors (default: empty)")
    p.add_argument("--tags", type=parse_list, default=[], metavar="A,B",
                   help="the sheet's tags (default: none)")  # fmt: skip

    p = sub.add_parser(
        "edit", parents=[common], help="submit an edit: UNEDITED -> EDITED",
        description="Say what to cut and where to upload it; a cutter then takes it.",
        epilog=time_help,
    )  # fmt: skip
    p.add_argument("id", help="the event's id (from add or list)")
    p.add_argument("--video-start", type=times.argument, metavar="TIME",
                   help="first instant of the clip (or give --range)")  # fmt: skip
    p.add_argument("--video-end", type=times.argument, metavar="TIME",
                   help="end of the clip (exclusive)")  # fmt: skip
    p.add_argument(
        "--range", nargs=2, type=times.argument, action="append", dest="ranges",
        metavar=("START", "END"),
        help="a range of the clip; repeat for several, joined in order",
    )  # fmt: skip
    p.add_argument(
        "--transition", type=parse_transition, action="append", dest="transitions",
        metavar="TYPE:SECONDS",
        help="each join of the ranges, in order: fade:1 (through black), crossfade:0.5, "
        "or none (a hard cut, the default)",
    )  # fmt: skip
    p.add_argument("--title", help="the video's title (needed unless --draft)")
    p.add_argument("--description", help="the video's description (default: empty)")
    p.add_argument("--channel", help="channel directory under the archive (needed unless --draft)")
    p.add_argument("--quality",
                   help="quality directory under the channel (default: source)")  # fmt: skip
    p.add_argument(
        "--location", help="upload location name, a cutter's --location (needed unless --draft)"
    )
    p.add_argument("--allow-holes", action="store_true", help="cut even if some video is missing")
    p.add_argument(
        "--uploader-whitelist", type=parse_list, default=[], metavar="A,B",
        help="only these cutters may take it (default: any)",
    )  # fmt: skip
    p.add_argument("--editor", required=True, metavar="EMAIL", help="who made the edit")
    _thumbnail_arguments(p)
    p.add_argument(
        "--tags", type=parse_list, metavar="A,B",
        help="the video's own tags; --publishing's default tags are added (default: none)",
    )  # fmt: skip
    p.add_argument("--unlisted", action="store_true", help="upload unlisted (default: public)")
    p.add_argument(
        "--chapter", nargs=2, action="append", dest="chapters", metavar=("TIME", "TITLE"),
        help="a chapter at stream TIME (inside a range); repeat, at least three, the first "
        "at the clip's start",
    )  # fmt: skip
    add_publishing_argument(p)
    p.add_argument(
        "--draft", action="store_true",
        help="keep what is given as the event's draft, without submitting it (the state stays)",
    )  # fmt: skip
    _if_version(p)

    p = sub.add_parser("cancel", parents=[common], help="EDITED or CLAIMED -> UNEDITED")
    p.add_argument("id", help="the event's id")
    _if_version(p)
    p = sub.add_parser(
        "reset", parents=[common], help="back to UNEDITED, clearing error and uploader"
    )
    p.add_argument("id", help="the event's id")
    p.add_argument(
        "--force", action="store_true",
        help="reset a DONE event too (its video is forgotten, not deleted), to cut it again",
    )  # fmt: skip
    _if_version(p)
    p = sub.add_parser(
        "manual-upload", parents=[common], help="mark as uploaded by hand: straight to DONE"
    )
    p.add_argument("id", help="the event's id")
    p.add_argument("--link", required=True, metavar="URL", help="where the video is")
    _if_version(p)

    p = sub.add_parser("list", parents=[common], help="list events")
    p.add_argument("--state", type=parse_state, choices=STATES,
                   help="only events in this state, any case (default: all)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="a JSON list of objects, every column")
    sub.add_parser("locations", parents=[common], help="the upload locations running cutters serve")
    p = sub.add_parser("show", parents=[common], help="every column of one event")
    p.add_argument("id", help="the event's id")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p = sub.add_parser(
        "history", parents=[common], help="who changed one event, when, and from what to what"
    )
    p.add_argument("id", help="the event's id")
    p.add_argument("--json", action="store_true", help="a JSON list of the audit rows")

    p = sub.add_parser(
        "import", parents=[common], help="add or update events' sheet inputs from a CSV file"
    )
    p.add_argument(
        "file", metavar="FILE.csv",
        help="columns by header: sheet_name, event_start, event_end, category, description, "
        "notes, and id to update an event",
    )  # fmt: skip
    p.add_argument(
        "--day", type=parse_day, metavar="YYYY-MM-DD", help="the day of HH:MM[:SS] times"
    )
    p.add_argument(
        "--timezone", type=parse_timezone, metavar="ZONE",
        help="the time zone of HH:MM[:SS] times, e.g. America/Vancouver (default: UTC)",
    )  # fmt: skip
    p.add_argument(
        "--write-ids", action="store_true", help="write the new events' ids into the file"
    )
    p.add_argument(
        "--skip-bad", action="store_true", help="import the good rows even if some are bad"
    )
    p = sub.add_parser("export", parents=[common], help="write events as CSV (- for stdout)")
    p.add_argument("file", metavar="FILE.csv", help="where to write the CSV (- for stdout)")
    p.add_argument("--state", type=parse_state, choices=STATES,
                   help="only events in this state, any case (default: all)")  # fmt: skip
    return parser


def import_csv(args: argparse.Namespace, db: Database) -> int:
    """``fastseg events import``: 0 if the file was imported, 1 if nothing was."""
    try:
        with open(args.file, newline="", encoding="utf-8-sig") as f:
            parsed = csvio.read_rows(f, day=args.day, zone=args.timezone)
    except (OSError, UnicodeDecodeError, csvio.CsvError) as e:
        print(f"fastseg events: cannot import {args.file!r}: {e}", file=sys.stderr)
        return 1
    bad = list(parsed.bad)
    if bad and not args.skip_bad:
        result = csvio.ImportResult(bad=bad)
    else:
        result = csvio.import_rows(db, parsed.rows, skip_bad=args.skip_bad)
        result.bad = sorted(bad + result.bad)
    for line, reason in result.bad:
        print(f"{args.file}:{line}: {reason}", file=sys.stderr)
    if result.bad and not args.skip_bad:
        print(
            f"fastseg events: nothing imported: {len(result.bad)} bad row(s) in {args.file!r};"
            " fix them, or pass --skip-bad to import the others",
            file=sys.stderr,
        )
        return 1
    if args.write_ids and result.new_ids:
        csvio.write_ids(args.file, parsed, result.new_ids)
    print(
        f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged"
        + (f", {len(result.bad)} bad row(s) skipped" if result.bad else "")
    )
    return 0


def export_csv(args: argparse.Namespace, db: Database) -> None:
    if args.file == "-":
        csvio.export_events(db, sys.stdout, args.state)
        return
    with open(args.file, "w", newline="", encoding="utf-8") as f:
        count = csvio.export_events(db, f, args.state)
    logger.info("%d events written to %r", count, args.file)


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):  # video_ranges: [[start, end], ...]
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):  # thumbnail images: base64, as the API gives them
        return base64.b64encode(value).decode("ascii")
    return value


def _as_dict(row: Event) -> dict[str, object]:
    return {k: _jsonable(v) for k, v in row.as_dict().items()}


def _text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bytes):  # an image: its size, not its bytes
        return f"({len(value)} bytes)"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value) or "-"
    if isinstance(value, list | dict):  # video_ranges, video_transitions, draft
        return json.dumps(_jsonable(value))
    return str(_jsonable(value))


def run(args: argparse.Namespace, db: Database) -> int:
    """Do one command; raises what states raises for bad ids and illegal transitions."""
    out = sys.stdout
    if args.command == "import":
        return import_csv(args, db)
    if args.command == "export":
        export_csv(args, db)
    elif args.command == "add":
        new = states.add_event(
            db,
            args.sheet_name,
            event_start=args.event_start,
            event_end=args.event_end,
            category=args.category,
            description=args.description,
            notes=args.notes,
            tags=args.tags,
        )
        print(new, file=out)
    elif args.command == "edit" and args.draft:
        states.save_draft(db, args.id, _draft(args), args.editor, if_version=args.if_version)
    elif args.command == "edit":
        values = {
            "video_start": args.video_start,
            "video_end": args.video_end,
            "video_ranges": args.ranges,
            "video_transitions": (
                transitions_to_json(args.transitions) if args.transitions else None
            ),
            "video_title": args.title,
            "video_description": args.description or "",
            "video_channel": args.channel,
            "video_quality": args.quality or "source",
            "upload_location": args.location,
            "allow_holes": args.allow_holes,
            "uploader_whitelist": args.uploader_whitelist,
            "video_tags": args.tags or [],
            "public": not args.unlisted,
            "video_chapters": args.chapters,
            "editor": args.editor,
            **_thumbnail_inputs(args),
        }
        states.check_editable(db, args.id, args.if_version)  # unknown id or stale: said first
        values = write_chapters(values)
        check_edit(db, args.base_dir, conventions=args.publishing, **values)
        states.edit(db, args.id, if_version=args.if_version, **values)
    elif args.command == "cancel":
        states.cancel(db, args.id, if_version=args.if_version)
    elif args.command == "reset":
        states.reset(db, args.id, force=args.force, if_version=args.if_version)
    elif args.command == "manual-upload":
        states.manual_upload(db, args.id, args.link, if_version=args.if_version)
    elif args.command == "list":
        rows = states.list_events(db, args.state)
        if args.json:
            json.dump([_as_dict(r) for r in rows], out, indent=2)
            out.write("\n")
        elif not rows:
            print(f"no events{f' in state {args.state}' if args.state else ''}", file=out)
        else:
            print(f"{'ID':<36}  {'STATE':<11} {'EVENT START':<26} NAME", file=out)
            for r in rows:
                print(
                    f"{r.id}  {r.state:<11} {_text(r.event_start):<26} {r.sheet_name}"
                    + (f"  [error: {r.error}]" if r.error else ""),
                    file=out,
                )
    elif args.command == "locations":
        rows = locations.live(db)
        if not rows:
            print("no upload locations: no cutter is running", file=out)
        else:
            print(f"{'NAME':<16} {'BACKEND':<8} {'PUBLIC URL':<40} NODES", file=out)
            for r in rows:
                print(f"{r.name:<16} {r.backend:<8} {_text(r.public_url):<40} "
                      f"{','.join(r.nodes)}", file=out)  # fmt: skip
    elif args.command == "history":
        rows = audit.history(db, "events", str(states.parse_id(args.id)))
        if not rows:  # every event has its INSERT: none means no such event
            states.get_event(db, args.id)
        if args.json:
            audit_text.print_json(rows, out)
        else:
            audit_text.print_table(rows, out, "no changes recorded")
    elif args.command == "show":
        row = states.get_event(db, args.id)
        if args.json:
            json.dump(_as_dict(row), out, indent=2)
            out.write("\n")
        else:
            width = max(map(len, Event.columns()))
            for name, value in row.as_dict().items():
                print(f"{name:<{width}}  {_text(value)}", file=out)
    return 0


def _thumbnail_arguments(p: argparse.ArgumentParser) -> None:
    """The thumbnail's options of ``edit`` (docs/DESIGN.md#thumbnails)."""
    p.add_argument(
        "--thumbnail-mode", choices=THUMBNAIL_MODES, default="NONE",
        help="NONE (default), BARE (the frame at --thumbnail-time), TEMPLATE (that frame in "
        "--thumbnail-template) or CUSTOM (--thumbnail-image)",
    )  # fmt: skip
    p.add_argument("--thumbnail-time", type=times.argument, metavar="TIME",
                   help="the frame of a BARE or TEMPLATE thumbnail")  # fmt: skip
    p.add_argument("--thumbnail-template", metavar="NAME",
                   help="a template's name ('fastseg templates list')")  # fmt: skip
    p.add_argument("--thumbnail-image", metavar="FILE.png", help="a CUSTOM thumbnail's PNG")
    p.add_argument("--thumbnail-crop", metavar="L,T,R,B",
                   help="the part of the frame to show (default: the template's)")  # fmt: skip
    p.add_argument("--thumbnail-location", metavar="L,T,R,B",
                   help="where in the template it goes (default: the template's)")  # fmt: skip


def _thumbnail_inputs(args: argparse.Namespace) -> dict:
    """The thumbnail's edit inputs from ``edit``'s options; EditRefused says what is wrong."""
    try:
        image = None
        if args.thumbnail_image:
            try:
                with open(args.thumbnail_image, "rb") as f:
                    image = f.read(MAX_IMAGE_BYTES + 1)
            except OSError as e:
                raise ValueError(f"cannot read --thumbnail-image: {e}") from e
            check_png(image, f"--thumbnail-image {args.thumbnail_image!r}")
        return thumbnail_values(
            thumbnail_mode=args.thumbnail_mode,
            thumbnail_time=args.thumbnail_time,
            thumbnail_template=args.thumbnail_template,
            thumbnail_image=image,
            thumbnail_crop=args.thumbnail_crop,
            thumbnail_location=args.thumbnail_location,
        )
    except ValueError as e:
        raise EditRefused(str(e)) from e


def _draft(args: argparse.Namespace) -> dict:
    """The edit's options given, as the events API's JSON body of a draft."""
    body = {
        "video_title": args.title,
        "video_description": args.description,
        "video_channel": args.channel,
        "video_quality": args.quality,
        "upload_location": args.location,
        "allow_holes": args.allow_holes or None,
        "uploader_whitelist": args.uploader_whitelist or None,
        "video_tags": args.tags,
        "public": False if args.unlisted else None,
        "video_chapters": [
            {"time": _api_time(when), "title": title} for when, title in args.chapters or ()
        ]
        or None,
    }
    if args.ranges and len(args.ranges) > 1:
        body["video_ranges"] = [[_api_time(a), _api_time(b)] for a, b in args.ranges]
        body["video_transitions"] = transitions_to_json(
            args.transitions or [None] * (len(args.ranges) - 1)
        )
    if args.video_start is not None:
        body["video_start"] = _api_time(args.video_start)
    if args.video_end is not None:
        body["video_end"] = _api_time(args.video_end)
    return {name: value for name, value in body.items() if value is not None}


def _api_time(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds") + "Z"


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
    if args.command == "edit" and not args.draft:
        missing = [f"--{n}" for n in ("title", "channel", "location") if getattr(args, n) is None]
        if missing:
            parser.error(f"an edit needs {', '.join(missing)} (or --draft to keep it unsubmitted)")
    if args.command == "edit" and (
        not args.draft or args.ranges or (args.video_start and args.video_end)
    ):
        _check_edit_range(parser, args)
    if (
        args.command == "edit"
        and args.video_start
        and args.video_end
        and args.video_end <= args.video_start
    ):
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
    if args.command == "edit" and args.chapters:
        try:
            args.chapters = [(times.parse(when), title) for when, title in args.chapters]
        except times.BadTime as e:
            parser.error(f"--chapter: {e}")
    if args.base_dir is None and args.db is None:
        parser.error(
            "no database given: pass --base-dir ARCHIVE (its embedded database), "
            "--db DSN, or set $FASTSEG_BASE or $FASTSEG_DB"
        )
    if args.command == "edit" and not args.draft and args.base_dir is None:
        parser.error(
            "an edit is checked against the recorded video: pass --base-dir of an archive "
            "that records the channel (or set $FASTSEG_BASE)"
        )
    setup_logging(args.log_level)
    try:
        # The checks that need no database come first, so a refusal starts nothing.
        if args.command == "edit":
            check_editor(args.editor)
        if args.command == "manual-upload":
            check_link(args.link)
        with database_dsn(args.db, args.base_dir) as dsn:
            db = Database(dsn, application_name="fastseg-events", actor=f"cli:{os_user()}")
            try:
                apply_schema(db)
                code = run(args, db)
            finally:
                db.close()
    except EditRefused as e:
        print(f"fastseg events: refused, nothing written: {e}", file=sys.stderr)
        return 2
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
    except OSError as e:  # export: the file cannot be written
        print(f"fastseg events: cannot write {args.file!r}: {e}", file=sys.stderr)
        return 1
    return code
