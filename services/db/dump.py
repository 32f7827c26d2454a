"""Backups of the database with pg_dump's custom format, and restoring them (docs/OPERATING.md).

A backup is written beside its file and renamed into place only when pg_dump
succeeded, so a failed run never leaves a file that looks like a backup. A
restore refuses a database that already holds tables unless told to replace
them (``force``: pg_restore ``--clean``), and runs as one transaction, so a
failed restore leaves the database as it was. Objects are restored owned by
the restoring role, without the dump's grants (``--no-owner --no-privileges``),
so a backup restores into another server whose roles differ.
"""

import logging
import os
import shutil
import subprocess
from pathlib import Path

from services.db.connection import DatabaseUnavailable, connect
from services.db.embedded import installed_bin_dirs

logger = logging.getLogger(__name__)

__all__ = ["DumpError", "backup", "find_client", "restore", "user_tables"]


class DumpError(Exception):
    """pg_dump or pg_restore is missing or failed, or a restore was refused; says why."""


def find_client(name: str) -> str:
    """The path of PostgreSQL client program ``name`` (pg_dump, pg_restore).

    ``$FASTSEG_PG_BIN`` names the one directory to look in (unlike the server's
    programs, no others are tried: a backup taken with an unexpected pg_dump is
    worse than none); otherwise the newest
    /usr/lib/postgresql/*/bin (a pg_dump older than the server refuses it), then
    PATH. Raises DumpError saying what to install.
    """
    if os.environ.get("FASTSEG_PG_BIN"):
        candidates = [os.environ["FASTSEG_PG_BIN"]]
    else:
        candidates = installed_bin_dirs()
        on_path = shutil.which(name)
        if on_path:
            candidates.append(os.path.dirname(on_path))
    for bindir in candidates:
        program = os.path.join(bindir, name)
        if os.access(program, os.X_OK):
            return program
    raise DumpError(
        f"{name} not found in {', '.join(candidates) or 'PATH'}: install the PostgreSQL "
        "client programs (Debian: apt-get install postgresql-client) or set FASTSEG_PG_BIN "
        "to the directory that holds them"
    )


def _run(cmd: list[str]) -> None:
    name = os.path.basename(cmd[0])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as e:
        raise DumpError(f"cannot run {name}: {e}") from e
    if proc.returncode != 0:
        raise DumpError(f"{name} failed (exit {proc.returncode}): {proc.stderr.strip()}")


def backup(dsn: str, path: str | os.PathLike[str]) -> int:
    """Write the whole database of ``dsn`` to ``path`` (custom format); the file's size.

    Raises DumpError (the file is then untouched).
    """
    target = Path(path)
    if target.is_dir():
        raise DumpError(f"{str(target)!r} is a directory: give the backup file's name")
    partial = target.with_name(f".{target.name}.partial")
    try:
        _run([find_client("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={dsn}"])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    logger.info("backed up the database to %r (%d bytes)", str(target), size)
    return size


def user_tables(dsn: str) -> list[str]:
    """The tables of ``dsn``'s database outside the system schemas, as ``schema.table``."""
    try:
        conn = connect(dsn, application_name="fastseg-db restore")
    except DatabaseUnavailable as e:
        raise DumpError(str(e)) from e
    with conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%%' ORDER BY 1, 2"
        ).fetchall()
    return [f"{schema}.{name}" for schema, name in rows]


def restore(dsn: str, path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Load the backup at ``path`` into ``dsn``'s database, in one transaction.

    Refused (DumpError) if the database holds tables, unless ``force``: then
    the backup's objects replace their namesakes.
    """
    source = Path(path)
    if not source.is_file():
        raise DumpError(f"no backup file {str(source)!r}: give a file 'fastseg db backup' wrote")
    program = find_client("pg_restore")  # before anything else: missing is the first problem
    tables = user_tables(dsn)
    if tables and not force:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise DumpError(
            f"the database is not empty (it has {shown}): restore into a new database, "
            "or pass --force to replace what it holds with the backup"
        )
    cmd = [program, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force:
        cmd += ["--clean", "--if-exists"]
    _run([*cmd, f"--dbname={dsn}", str(source)])
    logger.info("restored %r", str(source))
