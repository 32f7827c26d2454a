"""Typed rows: an event as the database returns it, one attribute per column.

``SELECT *`` and ``RETURNING *`` on ``events`` come back as :class:`Event` through
psycopg's row factory (:data:`EVENT_ROWS`), so code and the type checker see the
columns' types instead of a bag. ``tests/db/test_rows.py`` fails when the table gains a
column this class does not name: add the field here with the column (docs/DESIGN.md#schema).
"""

import dataclasses
import datetime as dt
import uuid
from typing import Any

from psycopg.rows import class_row

__all__ = ["EVENT_ROWS", "Event"]


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One row of ``events``; times naive UTC. See docs/DESIGN.md#schema for each column."""

    id: uuid.UUID
    # sheet inputs
    sheet_name: str
    event_start: dt.datetime | None
    event_end: dt.datetime | None
    category: str
    description: str
    submitter_winner: str
    poster_moment: bool
    image_links: list[str]
    notes: str
    # edit inputs (NULL until edited)
    allow_holes: bool | None
    uploader_whitelist: list[str] | None
    upload_location: str | None
    video_start: dt.datetime | None
    video_end: dt.datetime | None
    video_title: str | None
    video_description: str | None
    video_channel: str | None
    video_quality: str | None
    # state and outputs
    state: str
    uploader: str | None
    error: str | None
    video_id: str | None
    video_link: str | None
    editor: str | None
    edit_time: dt.datetime | None
    upload_time: dt.datetime | None
    # several ranges: an n x 2 array, and n - 1 joins as JSON
    video_ranges: list[list[dt.datetime]] | None
    video_transitions: list[dict[str, Any] | None] | None
    # a draft of edit inputs (the API's JSON body)
    draft: dict[str, Any] | None
    draft_editor: str | None
    draft_time: dt.datetime | None
    # thumbnail edit inputs and output (docs/DESIGN.md#thumbnails)
    thumbnail_mode: str
    thumbnail_time: dt.datetime | None
    thumbnail_template: str | None
    thumbnail_image: bytes | None
    thumbnail_crop: list[int] | None
    thumbnail_location: list[int] | None
    thumbnail_last_written: bytes | None
    # publishing (docs/DESIGN.md#publishing): the sheet's tags, the video's own tags
    # (NULL: an edit made before them) and public (false: uploaded unlisted)
    tags: list[str]
    video_tags: list[str] | None
    public: bool
    # versions (docs/DESIGN.md#versions)
    version: int
    last_writer: str | None
    last_write: dt.datetime | None
    last_changes: list[str] | None
    write_as: str | None

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The columns, in the class's order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict[str, Any]:
        """Column name -> value (not copied: for rendering JSON or a table)."""
        return {name: getattr(self, name) for name in self.columns()}


#: The row factory that makes ``events`` rows into :class:`Event`.
EVENT_ROWS = class_row(Event)
