"""The thumbnail of an event the cutter uploads (docs/DESIGN.md#thumbnails).

Made before the cut, so a thumbnail that cannot be made fails the job while no
video exists; set on the video after it is uploaded. ``BARE`` is the frame at
``thumbnail_time``, ``TEMPLATE`` that frame under the template (the edit's crop and
location, else the template's), ``CUSTOM`` the editor's PNG; each becomes the
1280x720 JPEG under 2 MiB that YouTube takes.
"""

import logging
import os
from typing import Any

from services.archive.layout import segment_at
from services.archive.readable import utc
from services.cutting import CutError, compose, frame_png, frame_times, shown_pts, youtube_jpeg
from services.db import Database
from services.db.thumbnails import get_template

logger = logging.getLogger(__name__)

__all__ = ["NoFrame", "make_thumbnail"]


class NoFrame(CutError):
    """No video at ``thumbnail_time`` here (yet): worth trying again later."""


def make_thumbnail(db: Database, base_dir: str, row: Any) -> bytes | None:
    """The event's thumbnail as a JPEG, or None for ``NONE``.

    Raises NoFrame (retryable), CutError or ValueError (BadImage) if it cannot be
    made, TemplateNotFound if its template is gone.
    """
    mode = row.thumbnail_mode or "NONE"
    if mode == "NONE":
        return None
    if mode == "CUSTOM":
        return youtube_jpeg(bytes(row.thumbnail_image))
    hours = os.path.join(base_dir, row.video_channel, row.video_quality)
    seg = segment_at(hours, row.thumbnail_time)
    if seg is None:
        raise NoFrame(f"no video at the thumbnail's time {utc(row.thumbnail_time)} yet")
    frame = frame_png(seg, shown_pts(frame_times(seg), seg.start, row.thumbnail_time))
    if mode == "TEMPLATE":
        template = get_template(db, row.thumbnail_template)
        crop = row.thumbnail_crop or template.crop
        location = row.thumbnail_location or template.location
        frame = compose(frame, bytes(template.image), tuple(crop), tuple(location))
    logger.info("event %s: %s thumbnail made", row.id, mode)
    return youtube_jpeg(frame)
