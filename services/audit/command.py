"""``fastseg audit --since 2h``: the audit trail of every table, from a time on.

One row per write (who, from where, which row), then each changed column's old
and new value; ``--json`` gives the rows whole. The trail itself is written by
the database (:mod:`services.db.audit`); this only reads it.
"""

import argparse
import sys

from services.archive import times
from services.db import (
    Database,
    DatabaseError,
    EmbeddedPostgresError,
    apply_schema,
    audit,
    audit_text,
    database_dsn,
)
from services.db.options import add_tool_arguments, require_database
from services.runtime.service import setup_logging

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastseg audit",
        description="Show who changed events, locations and nodes, when, and from what to what.",
    )
    parser.add_argument(
        "--since",
        type=times.since_argument,
        required=True,
        metavar="WHEN",
        help="from this time on: a duration back from now (90s, 15m, 2h, 3d) or a time; "
        f"{times.HELP}",
    )
    parser.add_argument("--json", action="store_true", help="a JSON list of the audit rows")
    add_tool_arguments(parser, "read")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    require_database(parser, args)
    setup_logging(args.log_level)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            db = Database(dsn, application_name="fastseg-audit")
            try:
                apply_schema(db)  # an older database gains the audit table, empty
                rows = audit.since(db, args.since)
            finally:
                db.close()
    except (DatabaseError, EmbeddedPostgresError) as e:
        print(f"fastseg audit: {e}", file=sys.stderr)
        return 1
    if args.json:
        audit_text.print_json(rows, sys.stdout)
    else:
        since = args.since.isoformat(sep=" ", timespec="seconds")
        audit_text.print_table(rows, sys.stdout, f"no changes since {since} UTC")
    return 0
