"""Cheap fingerprints of a segment's codec parameters, to find where they change.

A fast cut probes codec parameters once, from its first segment, and copies
the others untouched; that is only valid while every copied segment was made
with the same parameters. Rather than probing each segment, this reads the
start of each file: for fMP4 the init section (ftyp+moov, which holds every
codec parameter); for MPEG-TS the PMT's stream list, the video SPS/PPS NAL units
and the audio ADTS header's profile, rate and channel bits.
"""

import numpy as np

from services.cutting import fmp4, mpegts

#: Enough of a segment's start to hold its init section or first video PES header.
HEAD_BYTES = 64 * 1024
_START_CODE = b"\x00\x00\x01"


def fingerprint(head: bytes, kind: str) -> bytes:
    """Bytes that differ when the segment's codec parameters differ."""
    if kind == "fmp4":
        return _init_section(head)
    whole = head[: len(head) // mpegts.PACKET * mpegts.PACKET]
    pids = mpegts.program_pids(whole) or {}
    parts = [repr(sorted((k, v) for k, v in pids.items())).encode()]
    if "video" in pids:
        parts.append(_parameter_sets(_first_payload(whole, pids["video"])))
    if "audio" in pids:
        adts = _first_payload(whole, pids["audio"])[:4]
        # ADTS fixed header (ISO 14496-3 §1.A.2.2.1): profile, rate index, channels
        if len(adts) == 4 and adts[0] == 0xFF and adts[1] & 0xF0 == 0xF0:
            parts.append(bytes([adts[2], adts[3] & 0xC0]))
    return b"|".join(parts)


def _init_section(head: bytes) -> bytes:
    pos = 0
    while pos + 8 <= len(head):
        size = int.from_bytes(head[pos : pos + 4], "big")
        if head[pos + 4 : pos + 8] in fmp4.FRAGMENT_START or size < 8:
            break
        pos += size
    return head[:pos]


def _first_payload(data: bytes, pid: int) -> bytes:
    """The payload of the first PES on ``pid`` (as far as ``data`` goes), header skipped."""
    arr = mpegts.packets(data)
    pids = ((arr[:, 1].astype(np.uint16) & 0x1F) << 8) | arr[:, 2]
    rows = np.nonzero(pids == pid)[0]
    out = bytearray()
    started = False
    for r in rows:
        pkt = arr[r].tobytes()
        start = bool(pkt[1] & 0x40)
        if start and started:
            break
        if not (started or start):
            continue
        started = True
        pos = 4 + (1 + pkt[4] if pkt[3] & 0x20 else 0)
        if start and pkt[pos : pos + 3] == _START_CODE:
            pos += 9 + pkt[pos + 8]  # PES header (ISO 13818-1 §2.4.3.7)
        out += pkt[pos:]
    return bytes(out)


def _parameter_sets(es: bytes) -> bytes:
    """SPS and PPS NAL units of an H.264 or HEVC elementary stream start (VPS too)."""
    found = []
    for nal in es.split(_START_CODE)[1:]:
        if not nal:
            continue
        h264 = nal[0] & 0x1F
        hevc = (nal[0] >> 1) & 0x3F
        if h264 in (7, 8) or hevc in (32, 33, 34):
            found.append(nal.rstrip(b"\x00"))
        elif h264 == 5 or hevc in (19, 20):
            break  # the keyframe's slices: parameter sets come before them
    return b"|".join(found)
