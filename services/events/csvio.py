"""Events to and from CSV files, as a team's spreadsheet exports and imports them.

Columns are found by their header's name, in any order: ``sheet_name`` (needed
for new rows), ``event_start``, ``event_end``, ``category``, ``description``,
``notes``, the other sheet inputs, and ``id``. Export also writes ``state``,
``error`` and ``video_link``, which import ignores, so that an exported file
imports back unchanged. A column missing from a file leaves that input alone.

An import is one transaction: unless every row is good, nothing is written
(``skip_bad`` takes the good ones). A row with an ``id`` changes only that
event's sheet inputs, never its edit inputs or its state.
"""

import csv
import dataclasses
import datetime as dt
import logging
import os
import tempfile
import uuid
import zoneinfo
from typing import IO, Any

from services.db import Database, states
from services.db.schema import SHEET_INPUTS
from services.db.sheetrows import BadRow, format_inputs, parse_event_id, parse_inputs

logger = logging.getLogger(__name__)

__all__ = ["CsvError", "ImportResult", "export_events", "import_rows", "read_rows", "write_ids"]

#: Written by export, ignored by import: what the pipeline did with the event.
READ_ONLY = ("state", "error", "video_link")
COLUMNS = ("id", *SHEET_INPUTS, *READ_ONLY)


class CsvError(ValueError):
    """A file that cannot be imported at all (its header, its encoding)."""


@dataclasses.dataclass
class Row:
    line: int  # where the row starts in the file, counting the header as line 1
    event_id: uuid.UUID | None = None
    inputs: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CsvFile:
    header: list[str]
    rows: list[Row]  # the rows that parsed
    bad: list[tuple[int, str]]  # (line, reason)
    records: list[tuple[int, list[str]]]  # every row as read: --write-ids rewrites them all


@dataclasses.dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    new_ids: dict[int, uuid.UUID] = dataclasses.field(default_factory=dict)  # line -> id


def export_events(db: Database, out: IO[str], state: str | None = None) -> int:
    """Write every event (or those in ``state``) as CSV; returns how many."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = states.list_events(db, state)
    for row in rows:
        cells = {"id": str(row.id), **format_inputs(row)}
        cells.update({c: getattr(row, c) or "" for c in READ_ONLY})
        writer.writerow([cells[c] for c in COLUMNS])
    return len(rows)


def _header(names: list[str]) -> list[str]:
    header = [name.strip().lower() for name in names]
    seen = set()
    for name in header:
        if name and name not in COLUMNS:
            raise CsvError(
                f"unknown column {name!r}: the columns are {', '.join(COLUMNS)} "
                "(rename or delete it)"
            )
        if name and name in seen:
            raise CsvError(f"column {name!r} appears twice: keep one")
        seen.add(name)
    if not seen & {"id", "sheet_name"}:
        raise CsvError("the header has neither sheet_name nor id: the first line must name columns")
    return header


def read_rows(
    f: IO[str], *, day: dt.date | None = None, zone: zoneinfo.ZoneInfo | None = None
) -> CsvFile:
    """Parse a CSV file's rows (bad ones are listed with their line, not raised).

    Raises CsvError if the header is unusable.
    """
    reader = csv.reader(f, strict=True)  # a stray quote is an error, not a guess
    try:
        header = _header(next(reader))
    except StopIteration:
        raise CsvError("the file is empty: it needs a header line naming its columns") from None
    except csv.Error as e:
        raise CsvError(f"line 1: {e}") from None
    parsed = CsvFile(header=header, rows=[], bad=[], records=[])
    seen_ids: dict[uuid.UUID, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # the reader cannot go on past a broken quote
            raise CsvError(f"line {line}: {e}: check the quotes") from None
        parsed.records.append((line, cells))
        row = Row(line)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            parsed.bad.append((line, f"{len(cells)} cells but the header names {len(header)}"))
            continue
        named = {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header) if name}
        try:
            row.event_id = parse_event_id(named.pop("id", ""))
            for column in READ_ONLY:
                named.pop(column, None)
            row.inputs = parse_inputs(named, day=day, zone=zone)
            if row.event_id is None and not row.inputs.get("sheet_name"):
                raise BadRow("a new event (no id) needs a sheet_name")
            if row.event_id is not None and row.event_id in seen_ids:
                raise BadRow(f"id {str(row.event_id)!r} is also on line {seen_ids[row.event_id]}")
        except BadRow as e:
            parsed.bad.append((line, str(e)))
            continue
        if row.event_id is not None:
            seen_ids[row.event_id] = line
        parsed.rows.append(row)
    return parsed


class _Rejected(Exception):
    """Rolls the import back: some row failed inside the transaction."""


def import_rows(db: Database, rows: list[Row], *, skip_bad: bool) -> ImportResult:
    """Add or update every row in one transaction.

    A row whose id names no event is bad; unless ``skip_bad``, any bad row rolls
    the whole import back (the result then lists the bad rows and nothing else).
    """

    def run(cur) -> ImportResult:
        result = ImportResult()  # afresh: a serialization failure runs this again
        for row in rows:
            if row.event_id is None:
                sheet_name = row.inputs["sheet_name"]
                others = {k: v for k, v in row.inputs.items() if k != "sheet_name"}
                result.new_ids[row.line] = states.insert_event(cur, sheet_name, **others)
                result.added += 1
                continue
            changed = states.update_sheet_inputs(cur, row.event_id, **row.inputs)
            if changed is None:
                result.bad.append(
                    (row.line, f"no event has id {str(row.event_id)!r}: clear it to add the row")
                )
            elif changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if result.bad and not skip_bad:
            raise _Rejected(result)
        return result

    try:
        return db.transact(run)
    except _Rejected as e:
        failed = e.args[0]
        return ImportResult(bad=failed.bad)


def write_ids(path: str, parsed: CsvFile, new_ids: dict[int, uuid.UUID]) -> None:
    """Rewrite the file at ``path`` with the new events' ids in its ``id`` column.

    Every other cell is kept as read; an ``id`` column is added if there was none.
    The new file replaces the old one by rename, so a crash leaves one or the other.
    """
    header = list(parsed.header)
    if "id" not in header:
        header.append("id")
    at = header.index("id")
    with open(path, newline="", encoding="utf-8-sig") as f:
        original = next(csv.reader(f))
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".import-", suffix=".csv", dir=directory)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(original + (["id"] if len(original) < len(header) else []))
            for line, read in parsed.records:
                cells = list(read)
                if line in new_ids or len(original) < len(header):  # keep it rectangular
                    cells += [""] * (at + 1 - len(cells))
                if line in new_ids:
                    cells[at] = str(new_ids[line])
                writer.writerow(cells)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
