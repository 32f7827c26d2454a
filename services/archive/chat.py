"""Chat batches in wubloader's on-disk format, and the merge that makes copies converge.

A batch is one minute of one channel's chat: newline-terminated canonical JSON
lines at ``BASE/CHANNEL/chat/YYYY-MM-DDTHH/MM:00-HASH.json``, where HASH is the
unpadded URL-safe base64 of the SHA-256 of the bytes. Canonical means compact
separators, sorted keys, ASCII escapes, lines sorted by (time, time_range, text),
so the same messages always make the same bytes and the same name.

:func:`merge` is the join of a semilattice (associative, commutative, idempotent):
nodes that saw different parts of one chat end, whatever the order of merges,
with byte-identical files. docs/DESIGN.md ``## Chat`` states the rules and the
one precondition (different messages with the same fields do not overlap in time
unless one receiver saw both).

Everything here is pure or touches only the chat directory it is given; the
archiver, the backfiller and the restreamer share it.
"""

import base64
import datetime as dt
import hashlib
import json
import math
import os
import re
import uuid
from collections.abc import Iterable
from typing import Any, TypeGuard

from services.archive import writes

__all__ = [
    "BATCH_INTERVAL",
    "CHAT",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_MESSAGES",
    "BadBatch",
    "batch_hash",
    "batch_minute",
    "batch_name",
    "crowded_minutes",
    "encode",
    "files_for_range",
    "format_batch",
    "merge",
    "merge_minute",
    "minute_files",
    "parse_batch",
    "parse_batch_name",
    "parse_lines",
    "read_batch",
    "read_lines",
    "split_minutes",
    "store_batch",
    "verify_batch",
    "write_batch",
]

CHAT = "chat"  # the directory under a channel that holds chat, where a quality would be
BATCH_INTERVAL = 60  # seconds of chat per file
# A minute of a very busy chat (100 messages/s of 600 bytes) is 3.6 MB; a file far
# beyond that is not chat a node recorded, and is refused before it is parsed.
MAX_BATCH_BYTES = 32 * 1024 * 1024
MAX_BATCH_MESSAGES = 200_000

_TIME_FIELDS = ("time", "time_range", "receivers")
_NAME = re.compile(r"^([0-5][0-9]):00-([A-Za-z0-9_-]{43})\.json$")


#: One chat message as JSON decodes it: fields of any JSON type (docs/DESIGN.md#batches).
Message = dict[str, Any]


class BadBatch(ValueError):
    """Bytes that are not a batch: the message says what is wrong."""


# One encoder for every line: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
_decoder = json.JSONDecoder()
_decode, _raw_decode = _decoder.decode, _decoder.raw_decode


def encode(message: Message) -> str:
    """One message's canonical JSON line (no newline)."""
    return _encode(message)


def format_batch(messages: Iterable[Message]) -> bytes:
    """The canonical bytes of a batch: one sorted line per message, each ending in a newline."""
    lines = [(m["time"], m["time_range"], _encode(m)) for m in messages]
    lines.sort()
    return "".join(line + "\n" for _, _, line in lines).encode("ascii")


def batch_hash(data: bytes) -> str:
    """SHA-256 of ``data`` as unpadded URL-safe base64 (43 characters), as in a batch's name."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode("ascii").rstrip("=")


def batch_minute(message: Message) -> int:
    """The minute (Unix seconds, a multiple of 60) whose file holds ``message``."""
    return int(message["time"] // BATCH_INTERVAL) * BATCH_INTERVAL


def batch_name(minute: int, data: bytes) -> tuple[str, str]:
    """``(HOUR, NAME)`` of batch ``data`` of ``minute``: ``2026-12-07T23``, ``05:00-HASH.json``."""
    when = dt.datetime.fromtimestamp(minute, dt.UTC)
    return when.strftime("%Y-%m-%dT%H"), f"{when:%M:%S}-{batch_hash(data)}.json"


def parse_batch_name(hour: str, name: str) -> tuple[int, str] | None:
    """``(minute, hash)`` of a batch file name in ``hour``, or None if it is not one."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        start = dt.datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return int(start.timestamp()) + 60 * int(match.group(1)), match.group(2)


def _finite(value: object) -> TypeGuard[float]:
    return (type(value) is float or type(value) is int) and math.isfinite(value)


def _check(message: object) -> Message:
    if not isinstance(message, dict):
        raise BadBatch(f"a line is a {type(message).__name__}, not a message object")
    if not isinstance(message.get("command"), str):
        raise BadBatch("a message has no command")
    if not _finite(message.get("time")):
        raise BadBatch("a message has no finite time")
    time_range = message.get("time_range")
    if not _finite(time_range) or time_range < 0:
        raise BadBatch("a message has no time_range >= 0")
    receivers = message.get("receivers")
    if type(receivers) is not dict:
        raise BadBatch("a message's receivers is not an object of names to times")
    for when in receivers.values():
        if not _finite(when):
            raise BadBatch("a message's receivers is not an object of names to times")
    return message


def _batch_lines(data: bytes, max_messages: int) -> list[str]:
    """A batch's non-empty lines, within the limits; BadBatch if over them or not UTF-8."""
    if len(data) > MAX_BATCH_BYTES:
        raise BadBatch(f"the batch is {len(data)} bytes, over the limit of {MAX_BATCH_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBatch(f"the batch is not UTF-8 ({exc})") from None
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) > max_messages:
        raise BadBatch(f"the batch has {len(lines)} messages, over the limit of {max_messages}")
    return lines


def parse_lines(
    data: bytes, max_messages: int = MAX_BATCH_MESSAGES
) -> tuple[list[Message], list[str]]:
    """The messages of a batch's bytes and, for each, its line; :class:`BadBatch` if not a batch.

    Each line is decoded where it stands in the text and must end where the line
    ends, so a message's line is exactly its text (the route answers with it).
    """
    lines = _batch_lines(data, max_messages)
    messages = []
    try:
        for line in lines:
            value, end = _raw_decode(line)
            if end != len(line):
                raise BadBatch("a line holds more than one JSON value")
            messages.append(_check(value))
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, BadBatch):
            raise
        raise BadBatch(f"a line is not JSON ({str(exc)[:80]})") from None
    return messages, lines


def parse_batch(data: bytes, max_messages: int = MAX_BATCH_MESSAGES) -> list[Message]:
    """The messages of a batch's bytes; :class:`BadBatch` if they are not a batch.

    The lines are decoded as one array (faster than line by line); a line holding
    more or less than one value shows as a count that differs.
    """
    lines = _batch_lines(data, max_messages)
    try:
        messages: list[Message] = _decode("[" + ",".join(lines) + "]")
    except (ValueError, RecursionError) as exc:
        raise BadBatch(f"a line is not JSON ({str(exc)[:80]})") from None
    if len(messages) != len(lines):
        raise BadBatch("a line holds more or less than one JSON value")
    for m in messages:
        _check(m)
    return messages


def read_lines(path: str) -> tuple[list[Message], list[str]]:
    """The messages of the batch file at ``path`` and their lines (size checked before reading)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_BATCH_BYTES:
            raise BadBatch(f"{path!r} is {size} bytes, over the limit of {MAX_BATCH_BYTES}")
        return parse_lines(f.read())


def read_batch(path: str) -> list[Message]:
    """The messages of the batch file at ``path`` (size checked before reading)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_BATCH_BYTES:
            raise BadBatch(f"{path!r} is {size} bytes, over the limit of {MAX_BATCH_BYTES}")
        return parse_batch(f.read())


# --- merging ---------------------------------------------------------------------------


def _form(a: Any, b: Any) -> Any:
    """Of two equal numbers, the one with the shorter (then smaller) text: 0 before 0.0."""
    return a if (len(repr(a)), repr(a)) <= (len(repr(b)), repr(b)) else b


def _compatible(receivers: dict[str, Any], other: dict[str, Any]) -> bool:
    """False if one receiver got the two at different times: then they are two messages."""
    for name, when in other.items():
        seen = receivers.get(name)
        if seen is not None and seen != when:
            return False
    return True


def _join(cluster: list[Message], first: Message) -> Message:
    """One message for the observations in ``cluster``: the ranges intersected, receivers united."""
    if len(cluster) == 1:
        return cluster[0]
    start = max(m["time"] for m in cluster)
    end = min(m["time"] + m["time_range"] for m in cluster)
    time_form = time_range = None
    receivers: dict[str, Any] = {}
    for m in cluster:
        if m["time"] == start:
            time_form = m["time"] if time_form is None else _form(time_form, m["time"])
            if m["time"] + m["time_range"] == end:
                r = m["time_range"]
                time_range = r if time_range is None else _form(time_range, r)
        for name, when in m["receivers"].items():
            seen = receivers.get(name)
            receivers[name] = when if seen is None else _form(seen, when)
    if time_range is None:
        time_range = end - start  # exact: both are timestamps within a factor of 2 (Sterbenz)
    merged = dict(first)
    merged["time"] = time_form
    merged["time_range"] = time_range
    merged["receivers"] = receivers
    return merged


def _key(message: Message) -> str:
    return _encode({k: v for k, v in message.items() if k not in _TIME_FIELDS})


def _resolve(group: list[Message]) -> list[Message]:
    """The messages of one group (same fields but times): overlapping observations joined."""
    group.sort(
        key=lambda m: (m["time"], m["time"] + m["time_range"], sorted(m["receivers"].items()))
    )
    out = []
    cluster = [group[0]]
    end = group[0]["time"] + group[0]["time_range"]
    receivers = dict(group[0]["receivers"])
    for m in group[1:]:
        if m["time"] <= end and _compatible(receivers, m["receivers"]):
            cluster.append(m)
            end = min(end, m["time"] + m["time_range"])
            receivers.update(m["receivers"])
        else:
            out.append(_join(cluster, cluster[0]))
            cluster, end = [m], m["time"] + m["time_range"]
            receivers = dict(m["receivers"])
    out.append(_join(cluster, cluster[0]))
    return out


def merge(*batches: Iterable[Message]) -> list[Message]:
    """All the messages of ``batches``, each message once (unordered; see :func:`format_batch`).

    Messages whose fields other than time, time_range and receivers are equal, whose
    ranges overlap and whose receivers agree are one message: its range is the
    intersection and its receivers the union. A Twitch id is one of those fields
    (``tags.id``), so messages with ids match by id.
    """
    # Grouped by id first (cheap), and by all the fields only where an id recurs:
    # messages with the same fields have the same id, so the groups are the same.
    by_id: dict[str, list[Message]] = {}
    groups: dict[str, list[Message]] = {}
    for batch in batches:
        for m in batch:
            tags = m.get("tags")
            mid = tags.get("id") if type(tags) is dict else None
            if type(mid) is str:
                by_id.setdefault(mid, []).append(m)
            else:
                groups.setdefault(_key(m), []).append(m)
    out: list[Message] = []
    for group in by_id.values():
        if len(group) == 1:
            out.append(group[0])
        else:
            fields: dict[str, list[Message]] = {}
            for m in group:
                fields.setdefault(_key(m), []).append(m)
            for same in fields.values():
                out.extend(_resolve(same) if len(same) > 1 else same)
    for group in groups.values():
        out.extend(_resolve(group) if len(group) > 1 else group)
    return out


# --- files -----------------------------------------------------------------------------


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


def minute_files(chat_dir: str, minute: int) -> list[str]:
    """The paths of the batch files of ``minute`` in ``chat_dir`` (BASE/CHANNEL/chat)."""
    hour, _ = batch_name(minute, b"")
    prefix = dt.datetime.fromtimestamp(minute, dt.UTC).strftime("%M:%S-")
    folder = os.path.join(chat_dir, hour)
    return sorted(
        os.path.join(folder, n)
        for n in _listdir(folder)
        if n.startswith(prefix) and parse_batch_name(hour, n) is not None
    )


def files_for_range(chat_dir: str, start: float, end: float) -> list[str]:
    """The batch files that may hold a message whose range meets [start, end), sorted.

    Two minutes before ``start`` are included: a message is filed by the start of
    its range, and a JOIN's range reaches back 45 s more than another's.
    """
    first = int(start // BATCH_INTERVAL) * BATCH_INTERVAL - 2 * BATCH_INTERVAL
    last = int(end // BATCH_INTERVAL) * BATCH_INTERVAL
    out = []
    hour_start = first - first % 3600
    while hour_start <= last:
        hour, _ = batch_name(hour_start, b"")
        folder = os.path.join(chat_dir, hour)
        for n in _listdir(folder):
            parsed = parse_batch_name(hour, n)
            if parsed is not None and first <= parsed[0] <= last:
                out.append(os.path.join(folder, n))
        hour_start += 3600
    out.sort()
    return out


def write_batch(chat_dir: str, minute: int, messages: Iterable[Message]) -> str:
    """Store ``messages`` as the batch of ``minute``; returns its path (existing: untouched)."""
    data = format_batch(messages)
    hour, name = batch_name(minute, data)
    store_batch(chat_dir, hour, name, data)
    return os.path.join(chat_dir, hour, name)


def store_batch(chat_dir: str, hour: str, name: str, data: bytes) -> bool:
    """Store ``data`` as ``chat_dir/hour/name``; False if it was there already.

    Atomic as segments are (:mod:`services.archive.writes`): a hidden temp file,
    linked to its final name, unlinked.
    The name holds the bytes' hash, so a file already there holds the same bytes.
    """
    folder = os.path.join(chat_dir, hour)
    path = os.path.join(folder, name)
    if os.path.exists(path):
        return False
    # False also when the same bytes were written meanwhile (a concurrent merge or fetch).
    return writes.save(folder, f".{name}.{uuid.uuid4().hex}.temp", path, data)


def split_minutes(messages: Iterable[Message]) -> dict[int, list[Message]]:
    """``messages`` by the minute whose file holds them."""
    out: dict[int, list[Message]] = {}
    for m in messages:
        out.setdefault(batch_minute(m), []).append(m)
    return out


def merge_minute(chat_dir: str, minute: int) -> tuple[list[str], list[str], list[str]]:
    """Merge the files of ``minute`` and its two neighbours; ``(written, removed, bad)`` paths.

    The neighbours are read because a message's copies may be filed a minute apart
    (their ranges start on either side of it). Nothing is removed before what
    replaces it is written, and nothing just written is removed, so a concurrent
    merge can only leave more files to merge, never lose a message.
    """
    inputs = [p for m in (minute - 60, minute, minute + 60) for p in minute_files(chat_dir, m)]
    batches, bad = [], []
    for path in list(inputs):
        try:
            batches.append(read_batch(path))
        except FileNotFoundError:
            inputs.remove(path)  # merged away by someone else meanwhile
        except BadBatch:
            # Kept for a person to look at, but hidden: never listed, served or merged again.
            folder, name = os.path.split(path)
            os.replace(path, os.path.join(folder, f".{name}.bad"))
            inputs.remove(path)
            bad.append(path)
    written = [
        write_batch(chat_dir, m, msgs) for m, msgs in sorted(split_minutes(merge(*batches)).items())
    ]
    removed = []
    for path in inputs:
        if path not in written:
            try:
                os.unlink(path)
                removed.append(path)
            except FileNotFoundError:
                pass
    return written, removed, bad


def crowded_minutes(chat_dir: str) -> list[int]:
    """The minutes of ``chat_dir`` that have more than one file, oldest first."""
    counts: dict[int, int] = {}
    for hour in _listdir(chat_dir):
        for n in _listdir(os.path.join(chat_dir, hour)):
            parsed = parse_batch_name(hour, n)
            if parsed is not None:
                counts[parsed[0]] = counts.get(parsed[0], 0) + 1
    return sorted(m for m, c in counts.items() if c > 1)


def verify_batch(hour: str, name: str, data: bytes) -> list[Message]:
    """The messages of a batch fetched as ``hour/name``: :class:`BadBatch` unless its hash
    matches its name and it parses."""
    parsed = parse_batch_name(hour, name)
    if parsed is None:
        raise BadBatch(f"{hour}/{name} is not a batch name (MM:00-HASH.json)")
    if batch_hash(data) != parsed[1]:
        raise BadBatch(f"{hour}/{name}: the bytes do not match the hash in the name")
    return parse_batch(data)
