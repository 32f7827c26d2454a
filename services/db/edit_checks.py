"""Checks an edit must pass before it is written, so no cutter is handed one it cannot cut.

The events API and ``fastseg events`` both call :func:`check_edit` (and
:func:`check_link` for a manual upload) before the state transition, and
refuse with the one-line reason of :class:`EditRefused`. The cutter checks
holes again when it cuts, which is right: video may arrive later, and an edit
made with ``allow_holes`` still cuts what there is.
"""

import datetime as dt
import logging
import os
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

import fastseg
from services.archive import layout, names, times
from services.db import locations, states
from services.db.connection import Database
from services.db.publishing import Conventions, check_published, compose
from services.db.thumbnails import TemplateNotFound, attribution
from services.ranges import Transition, as_pairs, chapters, check_ranges, transitions_from_json

logger = logging.getLogger(__name__)

Range = tuple[dt.datetime, dt.datetime]

__all__ = ["EditRefused", "check_edit", "check_editor", "check_link", "write_chapters"]

# local@domain: one @, something either side, no spaces. Deliberately loose: the
# point is that the editor column names a person who can be written to.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class EditRefused(ValueError):
    """An edit (or manual upload) that must not be written; the message says why, in one line."""


def check_editor(editor: str) -> None:
    if not isinstance(editor, str) or not _EMAIL.fullmatch(editor):
        raise EditRefused(f"editor {editor!r} is not an email address like name@example.com")


def check_link(link: str) -> None:
    """A manual upload's link must open in a browser: an http(s) URL with a host."""
    parts = urllib.parse.urlsplit(link or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in link):
        raise EditRefused(
            f"link {link!r} is not an http(s) URL: give the video's address, like https://..."
        )


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "none yet"


def _check_archive(base_dir: str, channel: str, quality: str) -> str:
    if not (names.is_safe_name(channel) and layout.is_channel(base_dir, channel)):
        raise EditRefused(
            f"channel {channel!r} has no recorded video: "
            f"the channels are {_listing(layout.channels(base_dir))}"
        )
    if not (names.is_safe_name(quality) and layout.is_quality(base_dir, channel, quality)):
        raise EditRefused(
            f"quality {quality!r} of channel {channel!r} has no recorded video: "
            f"its qualities are {_listing(layout.qualities(base_dir, channel))}"
        )
    return os.path.join(base_dir, channel, quality)


def _check_location(db: Database, name: str) -> None:
    live = sorted({row.name for row in locations.live(db)})
    if name not in live:
        if live:
            known = f"the upload locations served now are {', '.join(map(repr, live))}"
        else:
            known = "no cutter is running: start one with --location NAME=BACKEND:OPTIONS"
        raise EditRefused(f"no running cutter serves upload location {name!r}: {known}")


def _ranges(
    video_start: dt.datetime | None,
    video_end: dt.datetime | None,
    video_ranges: Sequence[Sequence[dt.datetime]] | None,
    video_transitions: list[dict[str, Any] | None] | None,
) -> tuple[list[Range], list[Transition | None]]:
    """The edit's ranges and transitions, checked; EditRefused says what is wrong."""
    try:
        if video_ranges:
            ranges = as_pairs(video_ranges)
            return ranges, check_ranges(ranges, transitions_from_json(video_transitions))
        if video_start is None or video_end is None:
            raise ValueError("an edit needs video_start and video_end, or video_ranges")
        states.check_video_range(video_start, video_end)
        return [(video_start, video_end)], []
    except ValueError as exc:
        raise EditRefused(str(exc)) from None


def write_chapters(values: dict[str, Any]) -> dict[str, Any]:
    """The edit's inputs with ``video_chapters`` (``[(stream time, title), ...]``) written
    into ``video_description`` below the delimiter, in the clip's own time
    (docs/DESIGN.md#publishing); EditRefused says why they cannot be.
    """
    values = dict(values)
    given = values.pop("video_chapters", None)
    if not given:
        return values
    ranges, transitions = _ranges(
        values.get("video_start"),
        values.get("video_end"),
        values.get("video_ranges"),
        values.get("video_transitions"),
    )
    try:
        values["video_description"] = chapters.with_chapters(
            values.get("video_description") or "", given, ranges, transitions
        )
    except ValueError as exc:
        raise EditRefused(str(exc)) from None
    return values


def check_published_edit(
    conventions: Conventions,
    ranges: list[Range],
    transitions: list[Transition | None],
    *,
    video_title: str,
    video_description: str = "",
    video_tags: list[str] | None = None,
    thumbnail_attribution: str | None = None,
) -> None:
    """EditRefused unless the chapters keep YouTube's rules and what is published (the
    editor's text with the team's additions) keeps its limits."""
    try:
        chapters.check_chapters(video_description, chapters.clip_duration(ranges, transitions))
    except ValueError as exc:
        raise EditRefused(str(exc)) from None
    published = compose(
        conventions,
        video_title,
        video_description,
        video_tags,
        thumbnail_attribution=thumbnail_attribution,  # a TEMPLATE thumbnail's credit
    )
    problems = check_published(published)
    if problems:
        raise EditRefused("; ".join(problems))


def _thumbnail_credit(db: Database, mode: str | None, template: str | None) -> str | None:
    """A TEMPLATE's template exists: its attribution (the credit under the description)."""
    try:
        return attribution(db, mode, template)
    except TemplateNotFound as exc:
        raise EditRefused(f"thumbnail_template: {exc}") from None


def _check_thumbnail(hours_path: str, mode: str | None, when: dt.datetime | None) -> None:
    """A BARE or TEMPLATE thumbnail's frame is recorded."""
    if mode in ("BARE", "TEMPLATE") and when is not None:
        try:
            seg = layout.segment_at(hours_path, when)
        except ValueError as exc:  # a time outside what the archive can hold
            raise EditRefused(f"thumbnail_time: {exc}") from None
        if seg is None:
            raise EditRefused(
                f"thumbnail_time {when.isoformat()} has no recorded video: pick a frame of the clip"
            )


def check_edit(
    db: Database,
    base_dir: str,
    *,
    video_start: dt.datetime | None = None,
    video_end: dt.datetime | None = None,
    video_ranges: list[list[dt.datetime]] | None = None,
    video_transitions: list[dict[str, Any] | None] | None = None,
    video_channel: str,
    upload_location: str,
    editor: str,
    video_quality: str = "source",
    allow_holes: bool = False,
    video_title: str = "",
    video_description: str = "",
    video_tags: list[str] | None = None,
    conventions: Conventions | None = None,
    now: dt.datetime | None = None,
    thumbnail_mode: str | None = None,
    thumbnail_time: dt.datetime | None = None,
    thumbnail_template: str | None = None,
    **_other: Any,
) -> None:
    """Raise EditRefused unless the edit names recorded video a live cutter can upload,
    and what it publishes (with ``conventions``) keeps YouTube's rules.

    Times are naive UTC. A clip of several ``video_ranges`` is checked range by range
    (holes between ranges are no concern). Chapters are already in the description
    (:func:`write_chapters`). ``now`` is for tests; the other edit inputs are ignored.
    """
    ranges, transitions = _ranges(video_start, video_end, video_ranges, video_transitions)
    check_published_edit(
        conventions or Conventions(),
        ranges,
        transitions,
        video_title=video_title,
        video_description=video_description,
        video_tags=video_tags,
        thumbnail_attribution=_thumbnail_credit(db, thumbnail_mode, thumbnail_template),
    )
    video_start, video_end = ranges[0][0], ranges[-1][1]
    check_editor(editor)
    hours_path = _check_archive(base_dir, video_channel, video_quality)
    now = now or times.utc_now()
    if video_start >= now:
        raise EditRefused(
            f"the range {video_start.isoformat()} to {video_end.isoformat()} is entirely in "
            f"the future (it is {now.isoformat(timespec='seconds')} UTC): pick recorded video"
        )
    _check_location(db, upload_location)
    _check_thumbnail(hours_path, thumbnail_mode, thumbnail_time)
    if allow_holes:
        return
    try:
        for start, end in ranges:
            fastseg.get_best_segments(hours_path, start, end, allow_holes=False)
    except fastseg.ContainsHoles as exc:
        raise EditRefused(
            f"{video_channel}/{video_quality} has no complete video from "
            f"{exc.hole_start.isoformat()} to {exc.hole_end.isoformat()}: "
            "change the range, wait for the video, or allow holes"
        ) from None
    except ValueError as exc:  # a time outside what the archive can hold
        raise EditRefused(str(exc)) from None
