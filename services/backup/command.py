"""``fastseg db backup FILE`` and ``fastseg db restore FILE``: the database to a file and back.

Of the ``--db`` database, or else the embedded one of ``--base-dir`` (started
for the command if no node is running it). The work is
:mod:`services.db.dump`'s; docs/OPERATING.md gives a schedule.
"""

import argparse
import sys

from services.db import EmbeddedPostgresError, database_dsn
from services.db.dump import DumpError, backup, restore
from services.db.options import add_tool_arguments, require_database
from services.runtime.service import setup_logging

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_tool_arguments(common, "use")
    parser = argparse.ArgumentParser(
        prog="fastseg db", description="Back up fastseg's database to a file, or restore it."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "backup", parents=[common], help="write the whole database to FILE (pg_dump custom format)"
    )
    p.add_argument("file", metavar="FILE", help="the backup file (replaced only when complete)")
    p = sub.add_parser(
        "restore", parents=[common], help="load a backup into an empty database (pg_restore)"
    )
    p.add_argument("file", metavar="FILE", help="a file 'fastseg db backup' wrote")
    p.add_argument(
        "--force",
        action="store_true",
        help="restore into a database that holds tables, replacing them with the backup's",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    require_database(parser, args)
    setup_logging(args.log_level)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            if args.command == "backup":
                size = backup(dsn, args.file)
                print(f"backed up to {args.file} ({size} bytes)")
            else:
                restore(dsn, args.file, force=args.force)
                print(f"restored {args.file}")
    except (DumpError, EmbeddedPostgresError) as e:
        print(f"fastseg db {args.command}: {e}", file=sys.stderr)
        return 1
    return 0
