"""``fastseg templates``: the thumbnail templates an edit can name (docs/DESIGN.md#thumbnails).

``add`` and ``add --replace`` store a PNG with its default crop and location,
``list`` and ``show`` read them (``show --image FILE`` writes the PNG back out),
``remove`` deletes one. Like ``fastseg events`` it works on the database directly,
as the operator; the editor page's artists use ``/api/templates``. Bad arguments
and images exit 2 with nothing written; a missing template exits 1.
"""

import argparse
import json
import logging
import sys

from services.cutting import MAX_IMAGE_BYTES, BadImage, check_template
from services.db import (
    Database,
    DatabaseError,
    EmbeddedPostgresError,
    apply_schema,
    database_dsn,
)
from services.db import thumbnails as db_thumbnails
from services.db.options import add_tool_arguments, require_database
from services.db.thumbnails import TemplateNotFound, check_template_name, parse_box
from services.runtime.service import setup_logging

logger = logging.getLogger(__name__)

__all__ = ["main"]


def _box(text: str) -> tuple[int, int, int, int]:
    try:
        return parse_box(text, "box")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastseg templates", description="Manage the thumbnail templates editors pick from."
    )
    add_tool_arguments(parser, "use")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("add", help="store a template PNG (its transparent area shows the frame)")
    p.add_argument("name", help="what editors pick it by")
    p.add_argument("image", metavar="FILE.png", help="the artwork, at most 2 MiB and 4096 px")
    p.add_argument("--crop", type=_box, required=True, metavar="L,T,R,B",
                   help="default part of the frame to show, in frame pixels")  # fmt: skip
    p.add_argument("--location", type=_box, required=True, metavar="L,T,R,B",
                   help="default place of that part in the image, in its pixels")  # fmt: skip
    p.add_argument("--description", default="", help="what it is for (default: empty)")
    p.add_argument("--attribution", default="",
                   help="who made it: 'Thumbnail art by ...' (default: none)")  # fmt: skip
    p.add_argument("--replace", action="store_true", help="overwrite the template of that name")
    p = sub.add_parser("list", help="every template, without its image")
    p.add_argument("--json", action="store_true", help="a JSON list of objects")
    p = sub.add_parser("show", help="one template")
    p.add_argument("name", help="the template's name")
    p.add_argument("--image", metavar="FILE.png", help="also write its PNG here (- for stdout)")
    p = sub.add_parser("remove", help="delete a template (edits naming it keep the name)")
    p.add_argument("name", help="the template's name")
    return parser


def _read_image(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_IMAGE_BYTES + 1)
    except OSError as e:
        raise BadImage(f"cannot read {path!r}: {e}") from e


def _fields(row) -> dict:
    return {
        "name": row.name,
        "description": row.description,
        "attribution": row.attribution,
        "crop": list(row.crop),
        "location": list(row.location),
    }


def run(args: argparse.Namespace, db: Database) -> int:
    out = sys.stdout
    if args.command == "add":
        image = _read_image(args.image)
        check_template(image, args.location, repr(args.image))
        db_thumbnails.put_template(
            db, args.name, image, description=args.description,
            attribution=args.attribution, crop=args.crop, location=args.location,
            replace=args.replace,
        )  # fmt: skip
        print(f"template {args.name!r} {'replaced' if args.replace else 'added'}", file=out)
    elif args.command == "list":
        rows = db_thumbnails.list_templates(db)
        if args.json:
            json.dump([{**_fields(r), "image_bytes": r.image_bytes} for r in rows], out, indent=2)
            out.write("\n")
        elif not rows:
            print("no templates: add one with 'fastseg templates add NAME FILE.png ...'", file=out)
        for r in [] if args.json else rows:
            crop, location = ",".join(map(str, r.crop)), ",".join(map(str, r.location))
            print(f"{r.name:<24} crop {crop:<20} location {location:<20} {r.attribution}", file=out)
    elif args.command == "show":
        row = db_thumbnails.get_template(db, args.name)
        json.dump({**_fields(row), "image_bytes": len(row.image)}, out, indent=2)
        out.write("\n")
        if args.image == "-":
            sys.stdout.buffer.write(row.image)
        elif args.image:
            with open(args.image, "wb") as f:
                f.write(row.image)
    elif args.command == "remove":
        db_thumbnails.remove_template(db, args.name)
        print(f"template {args.name!r} removed", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("add", "show", "remove"):
        try:
            check_template_name(args.name)
        except ValueError as e:
            parser.error(str(e))
    require_database(parser, args)
    setup_logging(args.log_level)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            db = Database(dsn, application_name="fastseg-templates")
            try:
                apply_schema(db)
                return run(args, db)
            finally:
                db.close()
    except BadImage as e:
        print(f"fastseg templates: refused, nothing written: {e}", file=sys.stderr)
        return 2
    except (ValueError, TemplateNotFound, DatabaseError, EmbeddedPostgresError, OSError) as e:
        print(f"fastseg templates: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
