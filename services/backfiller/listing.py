"""What a peer has and this node lacks: its listings, the hours of a pass, the missing names.

A peer's archive is walked through the restreamer's ``/files`` routes (docs/DESIGN.md#http-api),
which wubloader's restreamer answers the same way. Nothing here fetches segments.
"""

import datetime as dt
import json
import logging
import os
import random

from fastseg import (
    SegmentInfo,
    SegmentPathError,
    hour_start,
    list_segment_files,
    parse_segment_path,
    tombstoned_name,
)
from services.archive import names
from services.backfiller.limits import MAX_LISTING_BYTES

logger = logging.getLogger(__name__)

__all__ = [
    "BadListing",
    "ListingTooLarge",
    "get_listing",
    "missing_segments",
    "missing_tombstones",
    "pass_hours",
]

ORDERS = ("newest", "oldest", "random")
#: Hours checked first in every pass whatever the order: the ones still being filled.
RECENT_HOURS = 2
_BAD_NAMES_LOGGED = 1000


class BadListing(Exception):
    """A peer answered a listing with something other than a JSON list of names."""


class ListingTooLarge(BadListing):
    """A peer's listing is longer than MAX_LISTING_BYTES (not read, or cut off there)."""


def get_listing(client, path: str, url: str) -> list[str] | None:
    """The JSON list of names at the peer's ``path`` (``url`` in messages), or None if the
    peer answers 404 (it has none).

    ``client`` is the peer's :class:`~services.backfiller.client.PeerClient`, whose
    kept-alive connections the segments use too. Raises BadListing for any other
    status or a body that is not a list of strings, and the client's network errors
    (``NETWORK_ERRORS``) when the peer cannot be reached, ListingTooLarge (no more
    than MAX_LISTING_BYTES is ever read or held).
    """
    with client.get(path) as resp:
        status = resp.status
        if resp.length is not None and resp.length > MAX_LISTING_BYTES:
            raise ListingTooLarge(
                f"{url!r} declares a listing of {resp.length} bytes, more than the "
                f"{MAX_LISTING_BYTES} read from a peer: not read"
            )
        body = resp.read(MAX_LISTING_BYTES + 1)  # a chunked body is cut off past the limit
        if len(body) > MAX_LISTING_BYTES:
            raise ListingTooLarge(
                f"{url!r} sent a listing of more than {MAX_LISTING_BYTES} bytes, the most "
                "read from a peer: cut off"
            )
    if status == 404:
        return None
    text = body[:200].decode("utf-8", "replace")
    if status != 200:
        raise BadListing(f"{url!r} answered {status}: {text.strip()!r}")
    try:
        names = json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: arrays nested too deep
        raise BadListing(
            f"{url!r} answered {text[:80]!r}: not JSON; is it a fastseg or wubloader restreamer?"
        ) from e
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadListing(f"{url!r} answered {str(names)[:80]!r}: expected a JSON list of names")
    return names


def pass_hours(
    hours_by_quality: dict[str, list[str]],
    order: str = "newest",
    start: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> list[str]:
    """The hours to check in one pass: the union over qualities, in ``order``.

    The newest RECENT_HOURS come first whatever the order (they are the ones a
    short outage just left holes in); hours ending before ``start`` are left
    out, as are names that are not hours. Returns a new list; the caller's lists
    are left as they are.
    """
    if order not in ORDERS:
        raise ValueError(f"order {order!r} is not one of {', '.join(ORDERS)}")
    union = set()
    for hours in hours_by_quality.values():
        union.update(hours)
    first = None if start is None else start.replace(minute=0, second=0, microsecond=0)
    kept = []
    for hour in union:
        began = hour_start(hour)
        if began is not None and (first is None or began >= first):
            kept.append(hour)
    kept.sort(reverse=True)
    recent, rest = kept[:RECENT_HOURS], kept[RECENT_HOURS:]
    if order == "oldest":
        rest.reverse()
    elif order == "random":
        (rng or random).shuffle(rest)
    return recent + rest


def local_names(hour_dir: str) -> set[str]:
    """Every segment and tombstone name held in ``hour_dir``, and every name a tombstone hides.

    A tombstone hides a segment on purpose: fetching it again would undo that.
    """
    names = set()
    for name in list_segment_files(hour_dir, include_tombstones=True):
        names.add(name)
        hidden = tombstoned_name(name)
        if hidden is not None:
            names.add(hidden)
    return names


def _plain_name(name: str) -> None:
    if not names.is_safe_name(name):
        raise SegmentPathError(name, "a peer's name must be a plain file name")


def _log_bad(name: str, hour: str, reason: str, bad_names: set[str] | None) -> None:
    if bad_names is not None and name not in bad_names:
        if len(bad_names) < _BAD_NAMES_LOGGED:  # bounded: junk must not flood the log
            logger.warning("skipping %r listed in hour %r: %s", name, hour, reason)
            bad_names.add(name)


def missing_tombstones(
    remote: list[str], hour_dir: str, hour: str, bad_names: set[str] | None = None
) -> tuple[list[str], int]:
    """The tombstone names among the peer's ``remote`` names that ``hour_dir`` lacks and
    whose segment it holds; and how many it lacks for segments it does not hold.

    A tombstone for a segment not held here hides nothing, so it is never copied
    (a peer could otherwise fill the disk with them); the segment is not fetched
    either, as the peer does not list it. One whose segment name would not
    parse, or that could leave the hour directory, is skipped and logged once
    via ``bad_names``.
    """
    have = None
    missing = []
    not_held = 0
    for name in remote:
        hidden = tombstoned_name(name)
        if hidden is None:
            continue
        if have is None:
            have = local_names(hour_dir)
        if name in have:
            continue
        if hidden not in have:
            not_held += 1
            continue
        try:
            _plain_name(name)
            parse_segment_path(f"{hour_dir}/{hidden}")
        except SegmentPathError as e:
            _log_bad(name, hour, e.reason, bad_names)
            continue
        missing.append(name)
    return missing, not_held


def _full_starts(hour: str, names: set[str]) -> set[dt.datetime]:
    starts = set()
    for name in names:
        if "-full-" in name:
            try:
                starts.add(parse_segment_path(f"{hour}/{name}").start)
            except SegmentPathError:
                pass  # not ours to judge: the local selection logs it
    return starts


def missing_segments(
    remote: list[str],
    hour_dir: str,
    hour: str,
    now: dt.datetime,
    recent_cutoff: dt.timedelta,
    bad_names: set[str] | None = None,
) -> list[SegmentInfo]:
    """The segments among the peer's ``remote`` names of ``hour`` that ``hour_dir`` lacks.

    Left out: tombstones (see :func:`missing_tombstones`), names we hold (or
    hide by a tombstone), ``temp`` files, segments that
    started less than ``recent_cutoff`` before ``now`` (the local downloader may
    still get them), a ``partial`` or ``suspect`` whose start we hold a ``full``
    copy of, and names that do not parse or could leave the hour directory
    (logged once each, via ``bad_names``).
    """
    have = local_names(hour_dir)
    candidates = [n for n in remote if n not in have and tombstoned_name(n) is None]
    if not candidates:
        return []
    full_starts = None
    youngest = now - recent_cutoff
    missing = []
    for name in candidates:
        try:
            _plain_name(name)
            info = parse_segment_path(f"{hour_dir}/{name}")
        except SegmentPathError as e:
            _log_bad(name, hour, e.reason, bad_names)
            continue
        if info.type == "temp" or info.start > youngest:
            continue
        if info.type != "full":
            if full_starts is None:
                full_starts = _full_starts(hour, have)
            if info.start in full_starts:
                continue
        missing.append(info)
    return missing


def hour_dir(base_dir: str, channel: str, quality: str, hour: str) -> str:
    return os.path.join(base_dir, channel, quality, hour)
