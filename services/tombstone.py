"""``fastseg tombstone PATH...``: hide segments here and, through backfill, on every node.

A tombstone is an empty ``STEM.tombstone`` beside ``STEM.ts`` (wubloader's form,
see :func:`fastseg.tombstone_path`). The segment file itself is kept: the
tombstone alone hides it from selection, listings, playlists and cuts, and
backfillers that trust this node with tombstones copy it to theirs instead of
fetching the segment. ``--undo`` takes tombstone paths and removes them, showing
their segments again (a tombstone a peer copied here, say). Every PATH is checked
before anything is written or removed, so a typo hides or shows nothing.
"""

import argparse
import os
import sys

import fastseg

USAGE_HINT = "give segment files as BASE/CHANNEL/QUALITY/HOUR/MM:SS.ffffff-DURATION-TYPE-HASH.ts"


class NotASegment(ValueError):
    """A PATH that is not an existing, finished segment file under CHANNEL/QUALITY/HOUR."""


def check(path: str) -> fastseg.SegmentInfo:
    """The segment at ``path``, or NotASegment saying what is wrong and what to give instead."""
    full = os.path.abspath(path)
    try:
        info = fastseg.parse_segment_path(full)
    except fastseg.SegmentPathError as e:
        raise NotASegment(f"{path!r} is not a segment file: {e.reason}; {USAGE_HINT}") from e
    if info.channel is None or info.quality is None:
        raise NotASegment(f"{path!r} is not under CHANNEL/QUALITY/HOUR; {USAGE_HINT}")
    if info.type == "temp":
        raise NotASegment(
            f"{path!r} is a temp file still being written: tombstone the segment it becomes"
        )
    if not os.path.isfile(full):
        what = "does not exist" if not os.path.lexists(full) else "is not a regular file"
        raise NotASegment(f"{path!r} {what}: check the name with 'ls' or /files")
    return info


def check_tombstone(path: str) -> fastseg.SegmentInfo:
    """The segment the tombstone at ``path`` hides, or NotASegment saying what is wrong.

    The segment must be there: removing a tombstone of a segment this node lacks
    would show nothing.
    """
    hidden = fastseg.tombstoned_name(os.path.basename(path))
    if hidden is None:
        raise NotASegment(
            f"{path!r} is not a tombstone (STEM.tombstone): give the .tombstone file "
            "beside the segment to show again"
        )
    if not os.path.isfile(path):
        what = "does not exist" if not os.path.lexists(path) else "is not a regular file"
        raise NotASegment(f"{path!r} {what}: check the name with 'ls'")
    segment = os.path.join(os.path.dirname(path), hidden)
    try:
        return check(segment)
    except NotASegment as e:
        raise NotASegment(f"{path!r} hides no segment here: {e}") from None


def hide(info: fastseg.SegmentInfo) -> bool:
    """Write the segment's tombstone; False if it was hidden already."""
    try:
        fd = os.open(fastseg.tombstone_path(info.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fastseg tombstone",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
        epilog="The segment file is kept. To show it again, run --undo on its .tombstone on "
        "every node: a backfiller copies a tombstone back from a node it trusts "
        "(--trust-tombstones-from) that still has one.",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help="segment files to hide (with --undo: their .tombstone files)",
    )  # fmt: skip
    parser.add_argument(
        "--undo", action="store_true",
        help="remove the tombstones given as PATH: their segments are shown again",
    )  # fmt: skip
    args = parser.parse_args(argv)
    segments, errors = [], []
    for path in args.paths:
        try:
            segments.append(check_tombstone(path) if args.undo else check(path))
        except NotASegment as e:
            errors.append(str(e))
    if errors:
        for error in errors:
            print(f"fastseg tombstone: {error}", file=sys.stderr)
        done = "shown" if args.undo else "hidden"
        print(f"fastseg tombstone: nothing {done} (fix the paths above and run it again)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.undo:
        return _undo(segments)
    for info in segments:
        where = f"{info.channel}/{info.quality}/{fastseg.hour_name(info.start)}"
        stone = os.path.basename(fastseg.tombstone_path(info.name))
        if hide(info):
            print(f"hid {where}/{info.name} ({info.type}, {info.start.isoformat()}): wrote {stone}")
        else:
            print(f"already hidden: {where}/{info.name} ({stone} exists)")
    return 0


def _undo(segments: list[fastseg.SegmentInfo]) -> int:
    for info in segments:
        where = f"{info.channel}/{info.quality}/{fastseg.hour_name(info.start)}"
        stone = os.path.basename(fastseg.tombstone_path(info.name))
        try:
            os.unlink(fastseg.tombstone_path(info.path))
        except FileNotFoundError:  # removed since it was checked
            print(f"already shown: {where}/{info.name} ({stone} is gone)")
            continue
        print(f"showed {where}/{info.name} ({info.type}, {info.start.isoformat()}): "
              f"removed {stone}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
