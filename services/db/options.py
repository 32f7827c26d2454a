"""``--db`` for services and tools: an explicit DSN, or the embedded cluster of ``--base-dir``."""

import argparse
import contextlib
import logging
import os
from collections.abc import Iterator

from services.db.embedded import EmbeddedPostgres

logger = logging.getLogger(__name__)

__all__ = ["add_db_argument", "database_dsn"]


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
