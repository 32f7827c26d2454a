"""Every change of an event's state (docs/DESIGN.md#state-machine), in one place.

Each transition is one conditional UPDATE: it names the states it leaves from
(and, for a cutter, that the row is still its own), so two writers can never
both win. Operator transitions raise :class:`IllegalTransition` or
:class:`EventNotFound` when they match nothing; cutter transitions return None
instead, because losing a race to another node is normal.

Times are naive UTC, like everywhere else in fastseg.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.db.connection import Database
from services.db.rows import EVENT_ROWS, Event
from services.db.schema import EDIT_INPUTS, SHEET_INPUTS
from services.db.thumbnails import thumbnail_values
from services.ranges import as_pairs, check_ranges, transitions_from_json

logger = logging.getLogger(__name__)

__all__ = [
    "IN_FLIGHT",
    "BadEventId",
    "EventNotFound",
    "IllegalTransition",
    "VersionConflict",
    "add_event",
    "cancel",
    "claim",
    "edit",
    "finalize_failed",
    "finalize_unknown",
    "finalizing",
    "finished",
    "get_event",
    "insert_event",
    "is_version",
    "list_events",
    "manual_upload",
    "recover",
    "reset",
    "retry_later",
    "save_draft",
    "set_error",
    "still_ours",
    "thumbnail_failed",
    "thumbnail_written",
    "transcode_problem",
    "transcoded",
    "unclaim_failed",
    "update_sheet_inputs",
]

NOW = "(now() AT TIME ZONE 'UTC')"


class BadEventId(ValueError):
    """An event id that is not a UUID."""


class EventNotFound(LookupError):
    """No event has this id."""


class IllegalTransition(Exception):
    """The event is not in a state this change may leave from."""


class VersionConflict(IllegalTransition):
    """The event was written since the version the change was based on (docs/DESIGN.md#versions).

    ``current`` is the row as it is now; the message names its last write: which
    columns changed, who wrote them and when.
    """

    def __init__(self, current: Event, expected: int) -> None:
        self.current = current
        self.expected = expected
        changed = ", ".join(current.last_changes or ()) or "nothing recorded"
        when = current.last_write.isoformat(timespec="seconds") if current.last_write else "?"
        super().__init__(
            f"event {str(current.id)!r} changed since version {expected}: it is version "
            f"{current.version}, last written by {current.last_writer or 'unknown'!s} at "
            f"{when} UTC ({changed}); look at it again, or send the change without a "
            "version to overwrite"
        )


def parse_id(event_id: object) -> uuid.UUID:
    """The UUID of an event id given as text; BadEventId says what was wrong."""
    if isinstance(event_id, uuid.UUID):
        return event_id
    try:
        return uuid.UUID(str(event_id))
    except ValueError:
        raise BadEventId(
            f"event id {event_id!r} is not a UUID (like 0b9a0c8e-...): "
            "see 'fastseg events list' for the ids"
        ) from None


def get_event(db: Database, event_id: object) -> Event:
    """The event's row (every column); EventNotFound if there is none."""
    row: Event | None = db.query_one(
        "SELECT * FROM events WHERE id = %s",
        (parse_id(event_id),),
        idempotent=True,
        rows=EVENT_ROWS,
    )
    if row is None:
        raise EventNotFound(f"no event with id {str(event_id)!r}")
    return row


def list_events(db: Database, state: str | None = None) -> list[Event]:
    """Every event (or those in ``state``), oldest event first."""
    where, params = ("WHERE state = %s", (state,)) if state else ("", ())
    return db.query(
        f"SELECT * FROM events {where} ORDER BY event_start NULLS LAST, sheet_name, id",
        params,
        idempotent=True,
        rows=EVENT_ROWS,
    )


def _operator_update(
    db: Database,
    event_id: object,
    action: str,
    sets: str,
    where: str,
    params: dict[str, object],
    *,
    if_version: int | None = None,
    writer: str | None = None,
) -> Event:
    """Run an operator's UPDATE of the rows ``where`` allows; when it matches nothing, say why.

    ``if_version``: change the row only while it is still that version, else
    VersionConflict. ``writer`` names who writes (recorded as ``last_writer``; by
    default the connection's application_name).
    """
    params = {**params, "id": parse_id(event_id), "if_version": if_version, "writer": writer}
    row: Event | None = db.query_one(
        f"UPDATE events SET {sets}, write_as = %(writer)s WHERE id = %(id)s AND ({where})"
        " AND (%(if_version)s::bigint IS NULL OR version = %(if_version)s) RETURNING *",
        params,
        rows=EVENT_ROWS,
    )
    if row is not None:
        logger.info("event %s: %s (now %s, version %d)", row.id, action, row.state, row.version)
        return row
    current = get_event(db, event_id)
    _check_version(current, if_version)
    raise _illegal(action, current)


MAX_VERSION_DIGITS = 18  # a BIGINT holds every number of 18 digits


def is_version(text: str) -> bool:
    """True if ``text`` is a version as a person or a header gives it: ASCII digits only.

    (``str.isdigit`` takes '²', which ``int`` refuses; a BIGINT takes 18 digits.)
    """
    return text.isascii() and text.isdigit() and len(text) <= MAX_VERSION_DIGITS


def _check_version(current: Event, if_version: int | None) -> None:
    if if_version is not None and current.version != if_version:
        raise VersionConflict(current, if_version)


def _illegal(action: str, current: Event) -> IllegalTransition:
    return IllegalTransition(
        f"cannot {action} event {str(current.id)!r}: it is {current.state}"
        # One line, whatever the error holds (ffmpeg's stderr can run to many).
        + (f" (error: {current.error.splitlines()[0]})" if current.error else "")
    )


EDITABLE = ("UNEDITED", "EDITED")  # the states an edit may replace


def check_editable(db: Database, event_id: object, if_version: int | None = None) -> None:
    """IllegalTransition unless the event may be edited now (the edit's UPDATE checks again).

    Lets an API refuse an edit of a claimed or finished event for that reason
    first, before checking the edit's own inputs against the archive; a stale
    ``if_version`` is a VersionConflict before anything else.
    """
    current = get_event(db, event_id)
    _check_version(current, if_version)
    if current.state not in EDITABLE:
        raise _illegal("edit", current)


# -- operators -------------------------------------------------------------------------


def add_event(db: Database, sheet_name: str, **sheet_inputs: Any) -> uuid.UUID:
    """A new UNEDITED event; returns its id."""
    return db.transact(lambda cur: insert_event(cur, sheet_name, **sheet_inputs))


def _check_sheet_inputs(sheet_inputs: dict[str, object]) -> None:
    unknown = set(sheet_inputs) - set(SHEET_INPUTS)
    if unknown:
        raise TypeError(f"not sheet inputs: {sorted(unknown)!r}; expected some of {SHEET_INPUTS!r}")


def insert_event(
    cur: psycopg.Cursor[Any], sheet_name: str, *, event_id: object = None, **sheet_inputs: Any
) -> uuid.UUID:
    """INSERT a new UNEDITED event with ``cur`` (inside the caller's transaction); its id.

    ``event_id`` chooses the id (a spreadsheet that wrote it into its row first); by
    default the database makes one.
    """
    _check_sheet_inputs(sheet_inputs)
    columns = {"sheet_name": sheet_name, **sheet_inputs}
    if event_id is not None:
        columns["id"] = parse_id(event_id)
    names = ", ".join(columns)
    marks = ", ".join(f"%({c})s" for c in columns)
    cur.execute(f"INSERT INTO events ({names}) VALUES ({marks}) RETURNING id", columns)
    (new_id,) = cur.fetchall()[0]
    return uuid.UUID(str(new_id))


def update_sheet_inputs(
    cur: psycopg.Cursor[Any], event_id: object, **sheet_inputs: Any
) -> bool | None:
    """Set the given sheet inputs of an event with ``cur``; never its edit inputs or state.

    Returns True if something changed, False if every value was already so,
    None if there is no such event.
    """
    _check_sheet_inputs(sheet_inputs)
    params = {**sheet_inputs, "id": parse_id(event_id)}
    if not sheet_inputs:
        cur.execute("SELECT id FROM events WHERE id = %(id)s", params)
        return None if cur.fetchone() is None else False
    sets = ", ".join(f"{c} = %({c})s" for c in sheet_inputs)
    differs = " OR ".join(f"{c} IS DISTINCT FROM %({c})s" for c in sheet_inputs)
    # One statement tells the three cases apart: the CTE updates only a row that
    # differs, the outer SELECT says whether the event exists at all.
    cur.execute(
        f"WITH changed AS (UPDATE events SET {sets} WHERE id = %(id)s AND ({differs})"
        " RETURNING id) SELECT EXISTS (SELECT 1 FROM changed) AS changed,"
        " EXISTS (SELECT 1 FROM events WHERE id = %(id)s) AS present",
        params,
    )
    ((changed, present),) = cur.fetchall()
    return bool(changed) if present else None


def check_video_range(video_start: dt.datetime, video_end: dt.datetime) -> None:
    """ValueError unless the clip's end is after its start."""
    if video_end <= video_start:
        raise ValueError(
            f"video end {video_end.isoformat()} is not after its start {video_start.isoformat()}"
        )


def edit(
    db: Database,
    event_id: object,
    *,
    video_start: dt.datetime | None = None,
    video_end: dt.datetime | None = None,
    video_title: str,
    video_channel: str,
    upload_location: str,
    editor: str,
    video_description: str = "",
    video_quality: str = "source",
    allow_holes: bool = False,
    uploader_whitelist: list[str] | None = None,
    video_ranges: Sequence[Sequence[dt.datetime]] | None = None,
    video_transitions: list[dict[str, Any] | None] | None = None,
    video_tags: list[str] | None = None,
    public: bool = True,
    if_version: int | None = None,
    **thumbnail: Any,
) -> Event:
    """UNEDITED → EDITED (or a new edit of an EDITED event, which no cutter holds yet).

    A clip of several ranges gives ``video_ranges`` (and, per join, ``video_transitions``:
    None or ``{"type": "fade"|"crossfade", "seconds": N}``); video_start/video_end then
    become the first start and last end. ValueError says what is wrong with them.
    ``video_tags`` and ``public`` are what docs/DESIGN.md#publishing says. The
    edit is submitted, so any draft is cleared; ``editor`` is the writer. ``thumbnail``:
    the ``thumbnail_*`` inputs (:func:`services.db.thumbnails.thumbnail_values`).
    """
    thumbnail_inputs = thumbnail_values(**thumbnail)
    ranges_column: list[list[dt.datetime]] | None = None
    if video_ranges:
        ranges = as_pairs(video_ranges)
        check_ranges(ranges, transitions_from_json(video_transitions))
        video_start, video_end = ranges[0][0], ranges[-1][1]
        if len(ranges) == 1:  # one range is what video_start/video_end say
            video_transitions = None
        else:
            ranges_column = [list(r) for r in ranges]
    elif video_transitions:
        raise ValueError("video_transitions without video_ranges: give the ranges they join")
    else:
        video_transitions = None
    if video_start is None or video_end is None:
        raise ValueError("an edit needs video_start and video_end, or video_ranges")
    check_video_range(video_start, video_end)
    values = {
        "allow_holes": bool(allow_holes),
        "uploader_whitelist": list(uploader_whitelist or []),
        "upload_location": upload_location,
        "video_start": video_start,
        "video_end": video_end,
        "video_title": video_title,
        "video_description": video_description,
        "video_channel": video_channel,
        "video_quality": video_quality,
        "video_ranges": ranges_column,
        "video_transitions": None if video_transitions is None else Jsonb(video_transitions),
        "video_tags": list(video_tags or []),
        "public": bool(public),
        **thumbnail_inputs,
    }
    sets = ", ".join(f"{c} = %({c})s{_CASTS.get(c, '')}" for c in EDIT_INPUTS)
    return _operator_update(
        db,
        event_id,
        "edit",
        f"state = 'EDITED', {sets}, editor = %(editor)s, edit_time = {NOW},"
        " error = NULL, uploader = NULL, draft = NULL, draft_editor = NULL, draft_time = NULL",
        "state = ANY(%(editable)s)",
        {**values, "editor": editor, "editable": list(EDITABLE)},
        if_version=if_version,
        writer=editor,
    )


def save_draft(
    db: Database,
    event_id: object,
    draft: dict[str, Any] | None,
    editor: str,
    *,
    if_version: int | None = None,
) -> Event:
    """Keep ``draft`` (edit inputs as the API's JSON body) on the event, in any state.

    Nothing is submitted: the state and the edit inputs stay as they are. An
    empty or None draft clears the one kept.
    """
    return _operator_update(
        db,
        event_id,
        "save a draft",
        f"draft = %(draft)s, draft_editor = %(editor)s, draft_time = {NOW}"
        if draft
        else "draft = NULL, draft_editor = NULL, draft_time = NULL",
        "TRUE",
        {"draft": Jsonb(draft) if draft else None, "editor": editor},
        if_version=if_version,
        writer=editor,
    )


def cancel(
    db: Database, event_id: object, *, if_version: int | None = None, writer: str | None = None
) -> Event:
    """EDITED or CLAIMED → UNEDITED. A cutter holding it aborts before finalizing."""
    return _operator_update(
        db,
        event_id,
        "cancel",
        "state = 'UNEDITED', uploader = NULL",
        "state IN ('EDITED', 'CLAIMED')",
        {},
        if_version=if_version,
        writer=writer,
    )


#: The states in which a cutter holds the row or its upload is not final yet:
#: resetting one clears the video id it is finishing (an orphaned or double upload).
IN_FLIGHT = ("CLAIMED", "FINALIZING", "TRANSCODING")


def reset(
    db: Database,
    event_id: object,
    *,
    force: bool = False,
    in_flight: bool = True,
    if_version: int | None = None,
    writer: str | None = None,
) -> Event:
    """Any state but DONE → UNEDITED, clearing error, uploader and any video.

    For an operator who has checked that an upload flagged in FINALIZING did
    not happen, or wants an erroring event edited afresh. ``force`` resets a DONE
    event too (its video is forgotten, not deleted): for an admin who wants it cut again.
    ``in_flight=False`` leaves the :data:`IN_FLIGHT` states alone (IllegalTransition):
    the events API's choice for an editor who is not an admin.
    """
    return _operator_update(
        db,
        event_id,
        "force reset" if force else "reset",
        "state = 'UNEDITED', error = NULL, uploader = NULL,"
        " video_id = NULL, video_link = NULL, upload_time = NULL",
        _reset_from(force, in_flight),
        {},
        if_version=if_version,
        writer=writer,
    )


def _reset_from(force: bool, in_flight: bool) -> str:
    """The states a reset may leave: DONE only when forced, IN_FLIGHT only when allowed."""
    if not in_flight:
        return "state IN ('UNEDITED', 'EDITED')" + (" OR state = 'DONE'" if force else "")
    return "TRUE" if force else "state <> 'DONE'"


def manual_upload(
    db: Database,
    event_id: object,
    link: str,
    *,
    if_version: int | None = None,
    writer: str | None = None,
) -> Event:
    """UNEDITED, EDITED, or FINALIZING with an error → DONE with ``link``.

    No edit inputs are needed. A FINALIZING row without an error is still
    being finalized by a cutter, and a CLAIMED one is being cut: not ours to take.
    """
    if not link:
        raise ValueError("the link of a manual upload is empty: give the video's URL")
    return _operator_update(
        db,
        event_id,
        "mark as manually uploaded",
        f"state = 'DONE', video_link = %(link)s, upload_time = {NOW}, error = NULL",
        "state IN ('UNEDITED', 'EDITED') OR (state = 'FINALIZING' AND error IS NOT NULL)",
        {"link": link},
        if_version=if_version,
        writer=writer,
    )


# -- cutters ---------------------------------------------------------------------------


def recover(db: Database, uploader: str, message: str) -> tuple[int, int]:
    """At a cutter's start: its CLAIMED rows → EDITED, its FINALIZING rows flagged.

    Whether a FINALIZING upload happened is unknown, so that row waits for an
    operator (``message`` says what to do). Returns (returned, flagged).
    """
    returned = db.query(
        "UPDATE events SET state = 'EDITED', uploader = NULL"
        " WHERE state = 'CLAIMED' AND uploader = %s RETURNING id",
        (uploader,),
        idempotent=True,
    )
    flagged = db.query(
        "UPDATE events SET error = %s"
        " WHERE state = 'FINALIZING' AND uploader = %s AND error IS NULL RETURNING id",
        (message, uploader),
        idempotent=True,
    )
    return len(returned), len(flagged)


def set_error(db: Database, event_id: object, error: str) -> bool:
    """Note a problem on an EDITED event (once: a repeat changes nothing)."""
    rows = db.query(
        "UPDATE events SET error = %s"
        " WHERE id = %s AND state = 'EDITED' AND error IS DISTINCT FROM %s RETURNING id",
        (error, parse_id(event_id), error),
        idempotent=True,
    )
    return bool(rows)


def claim(db: Database, row: Event, uploader: str) -> Event | None:
    """EDITED → CLAIMED, if every edit input is still what ``row`` says; else None.

    ``IS NOT DISTINCT FROM`` so that NULLs compare equal; a row edited since we
    read it is left for the next poll, which will see the new inputs.
    """
    same = " AND ".join(f"{c} IS NOT DISTINCT FROM %({c})s{_CASTS.get(c, '')}" for c in EDIT_INPUTS)
    return _event(
        db,
        "UPDATE events SET state = 'CLAIMED', uploader = %(uploader)s, error = NULL"
        f" WHERE id = %(id)s AND state = 'EDITED' AND {same} RETURNING *",
        {**_edit_values(row), "id": row.id, "uploader": uploader},
    )


#: Parameters compared with a column whose type psycopg cannot infer from the value.
_CASTS = {
    "thumbnail_mode": "::thumbnail_mode",
    "thumbnail_crop": "::integer[]",
    "thumbnail_location": "::integer[]",
}


def _edit_values(row: Event) -> dict[str, Any]:
    """A row's edit inputs as query parameters (JSON columns wrapped to compare as JSON)."""
    values = {c: getattr(row, c) for c in EDIT_INPUTS}
    if values.get("video_transitions") is not None:
        values["video_transitions"] = Jsonb(values["video_transitions"])
    return values


def still_ours(db: Database, event_id: object, uploader: str) -> bool:
    """True while the event is CLAIMED by ``uploader``."""
    return bool(
        db.query(
            "SELECT 1 FROM events WHERE id = %s AND state = 'CLAIMED' AND uploader = %s",
            (parse_id(event_id), uploader),
            idempotent=True,
        )
    )


def _event(db: Database, sql: str, params: object, *, idempotent: bool = False) -> Event | None:
    """The one event a statement returns (``RETURNING *``), or None."""
    row: Event | None = db.query_one(sql, params, idempotent=idempotent, rows=EVENT_ROWS)
    return row


def _held(
    db: Database,
    event_id: object,
    uploader: str,
    leave: str,
    sets: str,
    params: tuple[object, ...] = (),
) -> Event | None:
    return _event(
        db,
        f"UPDATE events SET {sets} WHERE id = %s AND state = '{leave}' AND uploader = %s"
        " RETURNING *",
        (*params, parse_id(event_id), uploader),
    )


def retry_later(db: Database, event_id: object, uploader: str, error: str) -> Event | None:
    """CLAIMED → EDITED after a retryable failure (noted in ``error``)."""
    return _held(
        db, event_id, uploader, "CLAIMED", "state = 'EDITED', uploader = NULL, error = %s", (error,)
    )


def unclaim_failed(db: Database, event_id: object, uploader: str, error: str) -> Event | None:
    """CLAIMED → UNEDITED with ``error``, keeping ``uploader`` to say who failed."""
    return _held(db, event_id, uploader, "CLAIMED", "state = 'UNEDITED', error = %s", (error,))


def finalizing(db: Database, event_id: object, uploader: str) -> Event | None:
    """CLAIMED → FINALIZING, just before the upload becomes final; None if no longer ours."""
    return _held(db, event_id, uploader, "CLAIMED", "state = 'FINALIZING'")


def finished(
    db: Database, event_id: object, uploader: str, video_id: str, video_link: str, transcoding: bool
) -> Event | None:
    """FINALIZING → TRANSCODING (the location still processes it) or DONE."""
    state = "TRANSCODING" if transcoding else "DONE"
    return _held(
        db,
        event_id,
        uploader,
        "FINALIZING",
        f"state = '{state}', video_id = %s, video_link = %s, upload_time = {NOW}, error = NULL",
        (video_id, video_link),
    )


def finalize_failed(
    db: Database, event_id: object, uploader: str, error: str, retryable: bool
) -> Event | None:
    """FINALIZING → EDITED or UNEDITED, when the upload certainly did not happen."""
    if retryable:
        sets = "state = 'EDITED', uploader = NULL, error = %s"
    else:
        sets = "state = 'UNEDITED', error = %s"
    return _held(db, event_id, uploader, "FINALIZING", sets, (error,))


def finalize_unknown(db: Database, event_id: object, uploader: str, error: str) -> Event | None:
    """Stay in FINALIZING with ``error``: whether the upload happened is unknown."""
    return _held(db, event_id, uploader, "FINALIZING", "error = %s", (error,))


#: The thumbnail was asked for and not set: its error stays on the event until an operator sees it.
_THUMBNAIL_MISSING = "thumbnail_mode <> 'NONE' AND thumbnail_last_written IS NULL"


def thumbnail_written(db: Database, event_id: object, uploader: str, image: bytes) -> Event | None:
    """Record the thumbnail a cutter just set on its uploaded video (TRANSCODING or DONE)."""
    return _event(
        db,
        "UPDATE events SET thumbnail_last_written = %s"
        " WHERE id = %s AND state IN ('TRANSCODING', 'DONE') AND uploader = %s RETURNING *",
        (image, parse_id(event_id), uploader),
        idempotent=True,
    )


def thumbnail_failed(db: Database, event_id: object, uploader: str, error: str) -> Event | None:
    """Note on an uploaded video (TRANSCODING or DONE, which it stays) that its thumbnail failed.

    The video is not lost for it (docs/DESIGN.md#thumbnails); ``transcoded`` keeps the note.
    """
    return _event(
        db,
        "UPDATE events SET error = %s"
        " WHERE id = %s AND state IN ('TRANSCODING', 'DONE') AND uploader = %s RETURNING *",
        (error, parse_id(event_id), uploader),
        idempotent=True,
    )


def transcoded(db: Database, event_id: object) -> Event | None:
    """TRANSCODING → DONE, when the upload location says the video is ready.

    The error is cleared, unless it says the thumbnail failed (one is missing).
    """
    return _event(
        db,
        f"UPDATE events SET state = 'DONE', error = CASE WHEN {_THUMBNAIL_MISSING} THEN error END"
        " WHERE id = %s AND state = 'TRANSCODING' RETURNING *",
        (parse_id(event_id),),
        idempotent=True,
    )


def transcode_problem(db: Database, event_id: object, error: str) -> Event | None:
    """Note on a TRANSCODING event what its location reports; it waits for an operator."""
    return _event(
        db,
        "UPDATE events SET error = %s"
        " WHERE id = %s AND state = 'TRANSCODING' AND error IS DISTINCT FROM %s RETURNING *",
        (error, parse_id(event_id), error),
        idempotent=True,
    )
