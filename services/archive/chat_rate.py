"""How busy the chat was: messages per 10 s, keyword hits, and the bursts worth a look.

An hour's counts come from its batch files alone, merged in memory so that copies
recorded by two nodes count once. They depend only on the files' names (which carry
the files' hashes), so a cache keyed by the names is never stale: a new or merged
file is a new key. A *moment* is a run of bins whose rate is several times the
median of the minutes before it, or that hold several keyword hits (a team's
"clip it"). See docs/DESIGN.md#finding-the-moments.
"""

from __future__ import annotations  # array.array[int] is only subscriptable from 3.12

import array
import dataclasses
import datetime as dt
import hashlib
import os
import statistics
from collections.abc import Iterable, Sequence
from typing import Protocol

from services.archive import chat

__all__ = [
    "BIN",
    "BURST_FACTOR",
    "BURST_FLOOR",
    "COUNTED",
    "HISTORY_BINS",
    "KEYWORD_FLOOR",
    "Moment",
    "Rates",
    "check_keywords",
    "find_moments",
    "hour_counts",
    "moments_in",
    "rates",
]

BIN = 10  # seconds a count covers
BINS_PER_HOUR = 3600 // BIN
#: What people type or do: chat lines, and subscriptions, raids and gifts.
COUNTED = frozenset({"PRIVMSG", "USERNOTICE"})
#: A burst: a bin at least this many times the median of the HISTORY_BINS before it...
BURST_FACTOR = 3.0
HISTORY_BINS = 30  # five minutes
#: ... and at least this many messages (a quiet chat's 1 -> 4 is no moment).
BURST_FLOOR = 5
#: Keyword hits in one bin that make a moment on their own.
KEYWORD_FLOOR = 3
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 40


class BytesCache(Protocol):
    """Where hour counts are kept between calls (the restreamer's disk cache)."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


def check_keywords(keywords: Iterable[str]) -> tuple[str, ...]:
    """Keywords as matched: lower-case, stripped, no empties; ValueError past the limits."""
    words = tuple(sorted({k.strip().lower() for k in keywords if k.strip()}))
    if len(words) > MAX_KEYWORDS:
        raise ValueError(f"{len(words)} chat keywords: give at most {MAX_KEYWORDS}")
    for word in words:
        if len(word) > MAX_KEYWORD_CHARS:
            raise ValueError(
                f"chat keyword {word[:50]!r} is over {MAX_KEYWORD_CHARS} characters: shorten it"
            )
    return words


def _text(message: chat.Message) -> str:
    params = message.get("params") or []
    last = params[-1] if params else ""
    return last.lower() if isinstance(last, str) else ""


def _hour_files(chat_dir: str, hour: str) -> list[str]:
    folder = os.path.join(chat_dir, hour)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n for n in names if chat.parse_batch_name(hour, n) is not None)


def _count(
    chat_dir: str, hour: str, names: Sequence[str], keywords: tuple[str, ...]
) -> tuple[array.array[int], array.array[int]]:
    start = dt.datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=dt.UTC).timestamp()
    batches = []
    for name in names:
        try:
            batches.append(chat.read_batch(os.path.join(chat_dir, hour, name)))
        except (FileNotFoundError, chat.BadBatch):
            continue  # merged away meanwhile, or hidden at the archiver's next merge
    counts = array.array("I", bytes(4 * BINS_PER_HOUR))
    hits = array.array("I", bytes(4 * BINS_PER_HOUR))
    for message in chat.merge(*batches):
        if message.get("command") not in COUNTED:
            continue
        index = min(max(int((message["time"] - start) // BIN), 0), BINS_PER_HOUR - 1)
        counts[index] += 1
        if keywords:
            text = _text(message)
            if any(k in text for k in keywords):
                hits[index] += 1
    return counts, hits


def hour_counts(
    chat_dir: str, hour: str, keywords: tuple[str, ...] = (), cache: BytesCache | None = None
) -> tuple[array.array[int], array.array[int]]:
    """Messages and keyword hits per :data:`BIN` of ``hour`` (``YYYY-MM-DDTHH``)."""
    names = _hour_files(chat_dir, hour)
    if not names:
        empty = array.array("I", bytes(4 * BINS_PER_HOUR))
        return empty, array.array("I", empty)
    key = hashlib.sha256(
        "\0".join([os.path.abspath(chat_dir), hour, *names, "|", *keywords]).encode()
    ).hexdigest()[:40]
    data = cache.get(key + ".rate") if cache is not None else None
    if data is not None and len(data) == 8 * BINS_PER_HOUR:
        both = array.array("I")
        both.frombytes(data)
        return both[:BINS_PER_HOUR], both[BINS_PER_HOUR:]
    counts, hits = _count(chat_dir, hour, names, keywords)
    if cache is not None:
        cache.put(key + ".rate", (counts + hits).tobytes())
    return counts, hits


@dataclasses.dataclass(frozen=True)
class Rates:
    """Counts per :data:`BIN` from ``start`` (UTC seconds, a multiple of BIN)."""

    start: float
    counts: list[int]
    hits: list[int]


def rates(
    chat_dir: str,
    start: float,
    end: float,
    keywords: tuple[str, ...] = (),
    cache: BytesCache | None = None,
) -> Rates:
    """The bins meeting [start, end), read an hour at a time."""
    first = int(start // BIN) * BIN
    last = -(-int(end) // BIN) * BIN
    counts: list[int] = []
    hits: list[int] = []
    hour = first - first % 3600
    while hour < last:
        name = dt.datetime.fromtimestamp(hour, dt.UTC).strftime("%Y-%m-%dT%H")
        c, h = hour_counts(chat_dir, name, keywords, cache)
        lo = max(first - hour, 0) // BIN
        hi = min(last - hour, 3600) // BIN
        counts.extend(c[lo:hi])
        hits.extend(h[lo:hi])
        hour += 3600
    return Rates(float(first), counts, hits)


@dataclasses.dataclass(frozen=True)
class Moment:
    """A run of busy bins: ``[start, end)`` in UTC seconds, its busiest bin and why."""

    start: float
    end: float
    peak: float
    peak_count: int
    hits: int
    why: str  # "burst", "keywords" or "burst+keywords"

    def as_json(self) -> dict[str, object]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "peak": _iso(self.peak),
            "peak_count": self.peak_count,
            "hits": self.hits,
            "why": self.why,
        }


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def find_moments(
    found: Rates,
    factor: float = BURST_FACTOR,
    floor: int = BURST_FLOOR,
    keyword_floor: int = KEYWORD_FLOOR,
) -> list[Moment]:
    """The moments of ``found``: neighbouring busy bins joined into one."""
    busy: list[tuple[int, str]] = []
    for i, count in enumerate(found.counts):
        history = found.counts[max(i - HISTORY_BINS, 0) : i]
        baseline = statistics.median(history) if history else 0
        reasons = []
        if count >= floor and count >= factor * max(baseline, 1):
            reasons.append("burst")
        if found.hits[i] >= keyword_floor:
            reasons.append("keywords")
        if reasons:
            busy.append((i, "+".join(reasons)))
    moments: list[Moment] = []
    run: list[tuple[int, str]] = []
    for item in [*busy, (-2, "")]:
        if run and item[0] != run[-1][0] + 1:
            peak = max(run, key=lambda b: found.counts[b[0]])[0]
            whys = {w for _, why in run for w in why.split("+")}
            moments.append(
                Moment(
                    start=found.start + run[0][0] * BIN,
                    end=found.start + (run[-1][0] + 1) * BIN,
                    peak=found.start + peak * BIN,
                    peak_count=found.counts[peak],
                    hits=sum(found.hits[i] for i, _ in run),
                    why="+".join(w for w in ("burst", "keywords") if w in whys),
                )
            )
            run = []
        run.append(item)
    return moments


def moments_in(
    chat_dir: str,
    start: float,
    end: float,
    keywords: tuple[str, ...] = (),
    cache: BytesCache | None = None,
    factor: float = BURST_FACTOR,
) -> tuple[Rates, list[Moment]]:
    """The rates of [start, end) and their moments, judged against the minutes before
    ``start`` too: a range that opens on a burst still sees it as one."""
    found = rates(chat_dir, start - HISTORY_BINS * BIN, end, keywords, cache)
    lead = int((max(start, found.start) - found.start) // BIN)
    shown = Rates(found.start + lead * BIN, found.counts[lead:], found.hits[lead:])
    moments = [m for m in find_moments(found, factor=factor) if m.end > shown.start]
    return shown, moments
