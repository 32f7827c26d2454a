"""Fragmented MP4 segments: split the init section (ftyp+moov) from the fragments.

Stored fMP4 segments carry the init section in front of each file
(docs/DESIGN.md#cut-methods). One init followed by the fragments of many segments is itself a valid
fragmented MP4 stream, because every fragment's tfdt carries its absolute decode
time; that is how several segments reach one ffmpeg through one pipe.
"""

import struct
from collections.abc import Iterator

#: Box types that open a media segment (ISO 14496-12 §8.16, §8.8.4).
FRAGMENT_START = {b"styp", b"sidx", b"moof", b"emsg", b"prft"}
#: Boxes dropped from fragments: a segment index points into its own file only.
DROP = {b"sidx"}


def looks_like_fmp4(data: bytes) -> bool:
    """True if ``data`` starts with an ISO BMFF box an fMP4 segment can start with."""
    return len(data) >= 8 and data[4:8] in {b"ftyp", b"styp", b"moov", b"moof", b"sidx"}


def boxes(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each top-level box; raises ValueError on a bad size."""
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError(f"truncated MP4 box header at byte {pos} of {len(data)}")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                raise ValueError(f"truncated MP4 box header at byte {pos} of {len(data)}")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:  # box extends to the end of the file
            size = len(data) - pos
        if size < header or pos + size > len(data):
            raise ValueError(
                f"MP4 box {kind!r} at byte {pos} claims {size} bytes; only "
                f"{len(data) - pos} remain (a truncated or corrupt segment)"
            )
        yield kind, pos, pos + size
        pos += size


def split(data: bytes) -> tuple[bytes, bytes]:
    """(init section, fragments) of one stored segment; init may be empty."""
    init_end = None
    parts = []
    for kind, start, end in boxes(data):
        if init_end is None and kind in FRAGMENT_START:
            init_end = start
        if init_end is not None and kind not in DROP:
            parts.append(data[start:end])
    if init_end is None:
        return data, b""
    return data[:init_end], b"".join(parts)
