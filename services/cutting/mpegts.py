"""MPEG-TS packet surgery for joining pieces: continuity counters, discontinuities, PIDs.

Pieces of a cut come from different muxers (untouched segments, ffmpeg's
re-encoded edges), so each PID's 4-bit continuity counter (ISO 13818-1 §2.4.3.3)
would jump at every join and decoders would report lost packets. :class:`Joiner`
renumbers every PID's counter across the whole output, vectorised with numpy so
that passing hundreds of MB through it costs a few ms per MB. A piece that
follows a hole gets the discontinuity_indicator (§2.4.3.5) set on its first
packet carrying a PCR, which is the standard way to say "the time base jumps here".
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)

PACKET = 188
SYNC = 0x47
PAT_PID = 0
NULL_PID = 0x1FFF
# stream_type values (ISO 13818-1 table 2-34) grouped by what we map them to
VIDEO_TYPES = {0x01, 0x02, 0x10, 0x1B, 0x24}
AUDIO_TYPES = {0x03, 0x04, 0x0F, 0x11, 0x81}


def is_mpegts(data: bytes) -> bool:
    """True if ``data`` starts like a transport stream (sync bytes 188 apart)."""
    if len(data) < PACKET or data[0] != SYNC:
        return False
    return len(data) < 2 * PACKET or data[PACKET] == SYNC


def packets(data: bytes) -> np.ndarray:
    """The packets of whole-packet ``data`` as an (n, 188) uint8 view."""
    arr: np.ndarray = np.frombuffer(data, dtype=np.uint8).reshape(-1, PACKET)
    return arr


def _pids(arr: np.ndarray) -> np.ndarray:
    pids: np.ndarray = ((arr[:, 1].astype(np.uint16) & 0x1F) << 8) | arr[:, 2]
    return pids


def _section(arr: np.ndarray, pid: int) -> bytes | None:
    """The first PSI section on ``pid`` that starts in a packet (payload_unit_start)."""
    rows = np.nonzero((_pids(arr) == pid) & ((arr[:, 1] & 0x40) != 0))[0]
    if not len(rows):
        return None
    pkt: bytes = arr[rows[0]].tobytes()
    pos = 4
    if pkt[3] & 0x20:  # adaptation field present: skip it
        pos += 1 + pkt[4]
    pos += 1 + pkt[pos]  # pointer_field
    if pos + 3 > PACKET:
        return None
    length = ((pkt[pos + 1] & 0x0F) << 8) | pkt[pos + 2]
    return pkt[pos : pos + 3 + length]


def program_pids(data: bytes) -> dict[str, int] | None:
    """PIDs of the first program: ``pmt``, ``video``, ``audio`` (absent ones left out),
    plus ``tsid`` and ``service`` ids, read from the PAT and PMT; None if not found."""
    arr = packets(data[: len(data) // PACKET * PACKET])
    pat = _section(arr, PAT_PID)
    if pat is None or len(pat) < 12:
        return None
    result = {"tsid": (pat[3] << 8) | pat[4]}
    # PAT loop: 4-byte entries after the 8-byte header, before the 4-byte CRC
    for i in range(8, len(pat) - 4, 4):
        program = (pat[i] << 8) | pat[i + 1]
        if program != 0:
            result["service"] = program
            result["pmt"] = ((pat[i + 2] & 0x1F) << 8) | pat[i + 3]
            break
    else:
        return None
    pmt = _section(arr, result["pmt"])
    if pmt is None or len(pmt) < 16:
        return None
    pos = 12 + (((pmt[10] & 0x0F) << 8) | pmt[11])  # skip program_info descriptors
    while pos + 5 <= len(pmt) - 4:
        stype, pid = pmt[pos], ((pmt[pos + 1] & 0x1F) << 8) | pmt[pos + 2]
        if stype in VIDEO_TYPES:
            result.setdefault("video", pid)
        elif stype in AUDIO_TYPES:
            result.setdefault("audio", pid)
        pos += 5 + (((pmt[pos + 3] & 0x0F) << 8) | pmt[pos + 4])
    return result


class Joiner:
    """Rewrites a sequence of TS pieces into one stream with continuous counters.

    Call :meth:`piece` before each piece's bytes, then :meth:`feed` its bytes in
    any chunking; each call returns the rewritten whole packets ready to send.
    A piece's trailing partial packet is an error in that piece, and is dropped
    with a warning rather than corrupting the next one.
    """

    def __init__(self) -> None:
        self._next_cc = np.zeros(NULL_PID + 1, dtype=np.int64)
        self._seen = np.zeros(NULL_PID + 1, dtype=bool)
        self._rest = b""
        self._mark_discontinuity = False
        self.packets = 0

    def piece(self, *, after_hole: bool = False) -> None:
        """Start a new piece; ``after_hole`` flags the time-base jump in its first PCR."""
        if self._rest:
            logger.warning("dropping %d bytes of a partial TS packet at a join", len(self._rest))
            self._rest = b""
        self._mark_discontinuity = after_hole

    def feed(self, data: bytes) -> bytes:
        if self._rest:
            data = self._rest + data
        whole = len(data) // PACKET * PACKET
        self._rest = data[whole:]
        if not whole:
            return b""
        arr = np.frombuffer(data, dtype=np.uint8, count=whole).reshape(-1, PACKET).copy()
        if not (arr[:, 0] == SYNC).all():
            bad = int(np.argmin(arr[:, 0] == SYNC))
            raise ValueError(
                f"lost MPEG-TS sync: packet {self.packets + bad} starts with "
                f"{arr[bad, 0]:#04x}, not 0x47 (the segment is not a whole transport stream)"
            )
        self.packets += len(arr)
        pids = _pids(arr)
        has_payload = (arr[:, 3] & 0x10) != 0
        for pid in np.unique(pids):
            if pid == NULL_PID:
                continue  # null packets carry no counter that anyone checks
            rows = np.nonzero(pids == pid)[0]
            if not self._seen[pid]:
                # start from the first packet's own counter: a continuous source stays untouched
                first = int(arr[rows[0], 3] & 0x0F)
                self._next_cc[pid] = first if has_payload[rows[0]] else first + 1
                self._seen[pid] = True
            # n-th payload packet gets base+n; a packet without payload repeats the last one
            ordinal = np.cumsum(has_payload[rows]) - 1
            arr[rows, 3] = (arr[rows, 3] & 0xF0) | ((self._next_cc[pid] + ordinal) & 0x0F)
            self._next_cc[pid] += int(ordinal[-1]) + 1
        if self._mark_discontinuity:
            self._flag_first_pcr(arr)
        return arr.tobytes()

    def _flag_first_pcr(self, arr: np.ndarray) -> None:
        with_pcr = np.nonzero(
            ((arr[:, 3] & 0x20) != 0) & (arr[:, 4] > 0) & ((arr[:, 5] & 0x10) != 0)
        )[0]
        if len(with_pcr):
            arr[with_pcr[0], 5] |= 0x80  # discontinuity_indicator
            self._mark_discontinuity = False

    def finish(self) -> None:
        if self._rest:
            logger.warning("dropping %d bytes of a partial TS packet at the end", len(self._rest))
            self._rest = b""
