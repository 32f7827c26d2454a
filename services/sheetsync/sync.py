"""Two-way sync between a team's spreadsheet and the events table.

Each pass reads every configured worksheet in one request, then:

* a row without an id gets a new id written into its id cell, and then an
  UNEDITED event with that id and the row's sheet inputs. The id goes into the
  sheet before the event into the database, so a failure between the two can
  never make a second event for the same row: the next pass finds the id and
  adds the event it names;
* a row with an id whose event differs from it gets its sheet inputs copied
  into the event (never edit inputs or state; a row whose id names no event
  adds it);
* each row's state, error and video link cells are rewritten when the event's
  differ;
* a row that cannot be read (a bad time, a copied id) gets ``bad row: why`` in
  its error cell and changes nothing;
* an event whose row is gone is logged and counted, never deleted.

Who wins (the last-writer rule):

* Sheet inputs belong to the sheet. Whatever a row says is copied into its
  event on the next pass, so the last edit in the sheet wins over a change made
  elsewhere (a CSV import, the editor page).
* The id, state, error and link cells belong to the database: the sync writes
  over whatever is typed there.
* The sync writes only those cells, one by one, never a row's input cells, so
  an input typed while the sync writes is not lost: it is read on the next pass.
  Just before writing, the sync reads the sheet again and writes to a row only
  if it still holds what the pass read (the same id; for a new row also the
  same inputs). A row edited, inserted above, sorted or moved in between is
  left for the next pass, so an id never lands on another moment's row because
  rows shifted. (Within the one request between that check and the write, a
  shift can still move an id to a neighbouring row; the next pass then makes
  the event follow the inputs of the row holding its id, and the row left
  without one gets a new event: nothing typed is lost.)

Run one sync per spreadsheet.
"""

import dataclasses
import logging
import time
import uuid
from typing import Any

import gevent
import gevent.event
import psycopg

from services.db import Database, DatabaseError, apply_schema, states
from services.db.sheetrows import BadRow, parse_event_id, parse_inputs
from services.runtime import backoff
from services.sheetsync.config import INPUTS, Config, Worksheet
from services.sheetsync.metrics import Metrics
from services.sheetsync.sheets import SheetsClient, SheetsError

logger = logging.getLogger(__name__)

__all__ = ["PassResult", "SheetSync"]

MAX_BACKOFF = 300.0  # seconds: a long outage is retried every few minutes
# Seconds from one pass's start to the next at least, however many changes wake it: a pass
# reads the sheet once or twice, and Google allows 60 reads a minute per user.
MIN_INTERVAL = 2.0
DAY_HINT = '"day" in the sync settings'


@dataclasses.dataclass
class Row:
    worksheet: Worksheet
    number: int  # as the sheet numbers it, from 1
    cells: dict[str, str]  # configured column name -> the text it shows

    def inputs(self) -> dict[str, str]:
        return {c: v for c, v in self.cells.items() if c in INPUTS}

    def blank(self) -> bool:
        return not any(v.strip() for c, v in self.cells.items() if c in (*INPUTS, "id"))


@dataclasses.dataclass
class Write:
    row: Row
    cells: dict[str, str]  # column name -> new text
    new_event: tuple[uuid.UUID, dict[str, Any]] | None = None  # added once the id is written
    same_inputs: bool = False  # write only if the row's inputs are still as read, too


@dataclasses.dataclass
class PassResult:
    rows: int = 0
    added: int = 0
    updated: int = 0
    written: int = 0
    deferred: int = 0  # rows that changed between the read and the write
    bad: int = 0
    without_row: int = 0


class SheetSync:
    def __init__(
        self,
        config: Config,
        client: SheetsClient,
        db: Database,
        metrics: Metrics,
        stopping: gevent.event.Event | None = None,
        wake: gevent.event.Event | None = None,
    ) -> None:
        self.config = config
        # Set by the database's notification of a changed event (services.db.notify):
        # the next pass, and its write-back, comes at once, though never sooner than
        # MIN_INTERVAL after the last one began; poll_interval stays the fallback.
        self.wake = wake or gevent.event.Event()
        self.client = client
        self.db = db
        self.metrics = metrics
        self.stopping = stopping or gevent.event.Event()
        self._schema_applied = False
        self._reported_bad: dict[tuple[str, int], str] = {}
        self._reported_missing: set[uuid.UUID] = set()

    # -- reading --------------------------------------------------------------------

    def _read(self) -> list[Row]:
        sheets = self.config.worksheets
        values = self.client.batch_get([self.config.range(w.name) for w in sheets])
        rows = []
        for worksheet, lines in zip(sheets, values, strict=True):
            for i, line in enumerate(lines):
                cells = {
                    name: line[index] if index < len(line) else ""
                    for name, index in self.config.columns.items()
                }
                rows.append(Row(worksheet, self.config.first_row + i, cells))
        return rows

    def _outputs(self, row: Row, wanted: dict[str, str]) -> dict[str, str]:
        """The configured output cells of ``row`` that differ from ``wanted``."""
        return {
            c: text
            for c, text in wanted.items()
            if c in self.config.columns and row.cells.get(c, "") != text
        }

    def _bad(self, row: Row, reason: str, result: PassResult, writes: list[Write]) -> None:
        result.bad += 1
        key = (row.worksheet.name, row.number)
        if self._reported_bad.get(key) != reason:
            self._reported_bad[key] = reason
            logger.warning("worksheet %r row %d: %s", row.worksheet.name, row.number, reason)
        cells = self._outputs(row, {"error": f"bad row: {reason}"})
        if cells:
            writes.append(Write(row, cells, same_inputs=True))

    def _plan(self, rows: list[Row], events: dict[uuid.UUID, Any], result: PassResult):
        """What to change: (sheet input updates, events to add, cells to write)."""
        updates: list[tuple[uuid.UUID, dict[str, Any]]] = []
        adds: list[tuple[uuid.UUID, dict[str, Any]]] = []
        writes: list[Write] = []
        seen: dict[uuid.UUID, Row] = {}
        for row in rows:
            if row.blank():
                continue
            result.rows += 1
            try:
                event_id = parse_event_id(row.cells["id"])
                if event_id in seen:
                    raise BadRow(
                        f"its id is also on row {seen[event_id].number} of "
                        f"{seen[event_id].worksheet.name!r} (a copied row?): clear this row's id "
                        "to make it an event of its own"
                    )
                inputs = parse_inputs(
                    row.inputs(), day=row.worksheet.day, zone=self.config.timezone,
                    day_hint=DAY_HINT,
                )  # fmt: skip
            except BadRow as e:
                self._bad(row, str(e), result, writes)
                continue
            self._reported_bad.pop((row.worksheet.name, row.number), None)
            inputs["sheet_name"] = row.worksheet.name
            if event_id is None:
                new_id = uuid.uuid4()
                cells = {
                    "id": str(new_id),
                    **self._outputs(row, {"state": "UNEDITED", "error": ""}),
                }
                writes.append(Write(row, cells, (new_id, inputs), same_inputs=True))
                continue
            seen[event_id] = row
            event = events.get(event_id)
            if event is None:
                adds.append((event_id, inputs))
                continue
            if any(getattr(event, c) != v for c, v in inputs.items()):
                updates.append((event_id, inputs))
            wanted = {
                "state": event.state,
                "error": event.error or "",
                "video_link": event.video_link or "",
            }
            cells = self._outputs(row, wanted)
            if cells:
                writes.append(Write(row, cells))
        self._reported_missing -= set(seen)  # back in the sheet: report it again if it goes
        names = {w.name for w in self.config.worksheets}
        missing = [e for e in events.values() if e.sheet_name in names and e.id not in seen]
        result.without_row = len(missing)
        for event in missing:
            if event.id not in self._reported_missing:
                self._reported_missing.add(event.id)
                logger.warning(
                    "event %s (%r, %s) has no row in the sheet any more: kept, not deleted",
                    event.id, event.sheet_name, event.state,
                )  # fmt: skip
        return updates, adds, writes

    # -- writing --------------------------------------------------------------------

    def _still_there(self, writes: list[Write], result: PassResult) -> list[Write]:
        """The writes whose rows still hold what this pass read (read again to check)."""
        fresh = {(r.worksheet.name, r.number): r for r in self._read()}
        keep = []
        for write in writes:
            now = fresh.get((write.row.worksheet.name, write.row.number))
            same = now is not None and now.cells.get("id") == write.row.cells.get("id")
            if same and write.same_inputs:
                same = now.inputs() == write.row.inputs()
            if same:
                keep.append(write)
            else:
                result.deferred += 1
                logger.info(
                    "worksheet %r row %d changed while syncing: it is left for the next pass",
                    write.row.worksheet.name, write.row.number,
                )  # fmt: skip
        return keep

    def _write(self, writes: list[Write], result: PassResult) -> list[Write]:
        writes = self._still_there(writes, result)
        data = [
            (self.config.cell(w.row.worksheet.name, column, w.row.number), [[text]])
            for w in writes
            for column, text in w.cells.items()
        ]
        self.client.batch_update(data)
        result.written += len(writes)
        self.metrics.writebacks.inc(len(writes))
        return writes

    def _add(self, adds: list[tuple[uuid.UUID, dict[str, Any]]]) -> int:
        def run(cur) -> int:
            for event_id, inputs in adds:
                values = {k: v for k, v in inputs.items() if k != "sheet_name"}
                states.insert_event(cur, inputs["sheet_name"], event_id=event_id, **values)
            return len(adds)

        return self.db.transact(run) if adds else 0

    def _update(self, updates: list[tuple[uuid.UUID, dict[str, Any]]]) -> int:
        def run(cur) -> int:
            return sum(bool(states.update_sheet_inputs(cur, i, **inputs)) for i, inputs in updates)

        return self.db.transact(run) if updates else 0

    # -- passes ---------------------------------------------------------------------

    def sync_once(self) -> PassResult:
        """One pass; raises SheetsError or DatabaseError (nothing is half-applied in the db)."""
        if not self._schema_applied:
            apply_schema(self.db)
            self._schema_applied = True
        result = PassResult()
        rows = self._read()
        events = {e.id: e for e in states.list_events(self.db)}
        updates, adds, writes = self._plan(rows, events, result)
        self.metrics.rows_read.inc(result.rows)
        self.metrics.bad_rows.set(result.bad)
        self.metrics.events_without_row.set(result.without_row)

        result.updated = self._update(updates)
        self.metrics.events_updated.inc(result.updated)
        if writes:
            written = self._write(writes, result)
            adds += [w.new_event for w in written if w.new_event is not None]
        result.added = self._add(adds)
        self.metrics.events_added.inc(result.added)
        if result.added or result.updated or result.written or result.deferred:
            logger.info(
                "pass: %d rows, %d events added, %d updated, %d rows written, %d deferred",
                result.rows, result.added, result.updated, result.written, result.deferred,
            )  # fmt: skip
        return result

    def run(self) -> None:
        """Pass after pass until ``stopping`` is set; failures back off, never end the loop."""
        failures = backoff.Backoff(base=self.config.poll_interval, cap=MAX_BACKOFF)
        while not self.stopping.is_set():
            delay = self.config.poll_interval
            began = time.monotonic()
            self.wake.clear()  # a change from here on is seen by this pass or wakes the next
            try:
                self.sync_once()
                failures.reset()
                if gevent.wait([self.stopping, self.wake], timeout=delay, count=1):
                    delay = max(0.0, began + MIN_INTERVAL - time.monotonic())
                else:
                    delay = 0.0  # waited out the interval already
            except SheetsError as e:
                self.metrics.api_errors.labels(e.kind).inc()
                delay += failures.failed()
                delay = max(delay, e.retry_after or 0)
                log = logger.warning if e.retryable else logger.error
                log("%s; trying again in %.1fs", e, delay)
            except (DatabaseError, psycopg.Error) as e:
                delay += failures.failed()
                logger.warning("database: %s; trying again in %.1fs", e, delay)
            self.stopping.wait(delay)
