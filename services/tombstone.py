"""``fastseg tombstone PATH...``: hide segments here and, through backfill, on every node.

A tombstone is an empty ``STEM.tombstone`` beside ``STEM.ts`` (wubloader's form,
see :func:`fastseg.tombstone_path`). The segment file itself is kept: the
tombstone alone hides it from selection, listings, playlists and cuts, and
backfillers copy the tombstone to their node instead of fetching the segment.
Every PATH is checked before anything is written, so a typo hides nothing.
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
        epilog="The segment file is kept. To show it again, delete its .tombstone on every "
        "node: backfillers copy a tombstone back from any node that still has one.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="segment files to hide")
    args = parser.parse_args(argv)
    segments, errors = [], []
    for path in args.paths:
        try:
            segments.append(check(path))
        except NotASegment as e:
            errors.append(str(e))
    if errors:
        for error in errors:
            print(f"fastseg tombstone: {error}", file=sys.stderr)
        print("fastseg tombstone: nothing hidden (fix the paths above and run it again)",
              file=sys.stderr)  # fmt: skip
        return 2
    for info in segments:
        where = f"{info.channel}/{info.quality}/{fastseg.hour_name(info.start)}"
        stone = os.path.basename(fastseg.tombstone_path(info.name))
        if hide(info):
            print(f"hid {where}/{info.name} ({info.type}, {info.start.isoformat()}): wrote {stone}")
        else:
            print(f"already hidden: {where}/{info.name} ({stone} exists)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
