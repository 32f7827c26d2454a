"""``--db`` for services and tools: an explicit DSN, or the embedded cluster of ``--base-dir``."""

import argparse
import contextlib
import logging
import os
from collections.abc import Iterator

from services.db.embedded import EmbeddedPostgres

logger = logging.getLogger(__name__)

__all__ = ["add_db_argument", "add_tool_arguments", "database_dsn", "require_database"]


EMBEDDED = "a private cluster in BASE/.fastseg/pg, started and stopped with this process"


def add_db_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    use: str = "",
    *,
    neither: str = EMBEDDED,
) -> None:
    """Add ``--db DSN`` (default ``$FASTSEG_DB``) to a parser or argument group.

    ``use`` says what the command reads there; ``neither`` what happens when neither
    ``--db`` nor ``$FASTSEG_DB`` is given (the embedded cluster, :func:`database_dsn`).
    """
    parser.add_argument(
        "--db",
        default=os.environ.get("FASTSEG_DB") or None,
        metavar="DSN",
        help=f"PostgreSQL connection string{': ' + use if use else ''} "
        f"(default: $FASTSEG_DB; neither given: {neither})",
    )


def add_tool_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """A one-shot database tool's ``--base-dir``, ``--db`` and ``--log-level`` (WARNING)."""
    parser.add_argument(
        "--base-dir",
        default=os.environ.get("FASTSEG_BASE") or None,
        help=f"archive root whose embedded database to {what} without --db "
        "(default: $FASTSEG_BASE)",
    )
    add_db_argument(parser)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("FASTSEG_LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on stderr (default: WARNING)",
    )


def require_database(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error unless ``--db`` or ``--base-dir`` (or their variables) names one."""
    if args.base_dir is None and args.db is None:
        parser.error(
            "no database given: pass --base-dir ARCHIVE (its embedded database), "
            "--db DSN, or set $FASTSEG_BASE or $FASTSEG_DB"
        )


@contextlib.contextmanager
def database_dsn(db: str | None, base_dir: str) -> Iterator[str]:
    """The DSN to use for the life of the block, running the embedded cluster if ``db`` is None."""
    if db:
        yield db
        return
    embedded = EmbeddedPostgres(base_dir)
    dsn = embedded.start()
    try:
        yield dsn
    finally:
        embedded.stop()
