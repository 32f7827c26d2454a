"""Fetch one segment from a peer into this node's archive, verified by its hash.

A body of known length (every segment from a fastseg or wubloader peer) is read
into one buffer by the event loop and hashed whole. Only if its sha256 is the one
in the segment's name does the disk thread (:meth:`Fetcher._save`) write it to a
``temp`` name in the segment's own hour directory and link that to the final name
(docs/DESIGN.md#writing-a-segment, :mod:`services.archive.writes`: a link is atomic
and, unlike a rename, never replaces a file already there). On a busy disk creating
a file can take milliseconds; in a thread (the system calls release the GIL) it
overlaps the network and the hashing of the next segment instead of stalling every
transfer of the process. One thread: creating files in one directory from several
threads only makes them spin on the directory's lock. A body of unknown or large
length is streamed to the temp name, hashed as it arrives. Whatever happens, the
temp name is gone when :meth:`Fetcher.segment` or :meth:`Fetcher.batch` returns or
raises.

A peer decides what it declares and sends: a body declared longer than
``max_size`` is refused before it is read (TooLarge), one of unknown length is cut
off there, and the bytes of each body are counted against the free-disk floor
(:class:`~services.backfiller.limits.DiskFloor`) before they are written.
"""

import hashlib
import http.client
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import NamedTuple

import gevent.threadpool

from fastseg import SegmentInfo, content_id, segment_name
from services.archive import writes
from services.backfiller.client import NETWORK_ERRORS, PeerClient, is_plain_number
from services.backfiller.limits import MAX_SEGMENT_MB, DiskFloor

logger = logging.getLogger(__name__)

__all__ = [
    "BadAnswer",
    "BatchesBusy",
    "Fetched",
    "Fetcher",
    "FetchFailed",
    "HashMismatch",
    "NoBatches",
    "PeerBroken",
    "SWITCH_INTERVAL",
    "TooLarge",
    "shorten_switch_interval",
    "store_tombstone",
]

#: Bytes per read of a body of unknown length (chunked), so few Python iterations per segment.
CHUNK = 1024 * 1024

#: The largest body read into one buffer (segments are a few MB; a larger one is
#: streamed to disk, so that a peer sending many cannot make us hold them all).
MAX_BUFFER = 16 * 1024 * 1024

#: The default largest segment (``--max-segment-mb``).
MAX_SEGMENT = MAX_SEGMENT_MB * 1024 * 1024

#: Threads that write fetched segments (see the module docstring).
DISK_THREADS = 1

#: Segments of one batch read ahead of the group being written: the network keeps
#: going while the disk catches up, with at most twice this many buffers held per batch.
WINDOW = 4

#: The GIL's switch interval while the backfiller runs. The disk thread takes the GIL
#: back after each of its five system calls per segment, and while the event loop runs
#: Python it may wait the whole interval for it (5 ms by default): measured, that made
#: the thread about twice as slow as the same calls in a loop.
SWITCH_INTERVAL = 0.0005


def shorten_switch_interval() -> float:
    """Set the process's GIL switch interval to SWITCH_INTERVAL; the one it replaces.

    Process-wide, so called explicitly where the backfiller starts
    (:meth:`services.backfiller.manager.Backfiller.run`, also inside a node, whose
    backfiller has the same disk thread), and undone when it stops; never as a side
    effect of a fetch. It costs the other greenlets nothing while no thread waits
    for the GIL (docs/DESIGN.md#backfiller).
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    return previous


class FetchFailed(Exception):
    """One segment could not be fetched from this peer; the others may still be."""


class BadAnswer(FetchFailed):
    """The peer answered something other than the segment's bytes (a 404 or 5xx, a short body)."""


class HashMismatch(FetchFailed):
    """The peer's bytes do not hash to the name's sha256: they were discarded."""


class TooLarge(FetchFailed):
    """The peer declared or sent a segment longer than the limit: refused, nothing kept."""


class PeerBroken(Exception):
    """The peer could not be reached, or the connection broke: stop asking it for now."""


class _LocalError(Exception):
    """Carries an OSError of our own disk past the handler for network errors."""


class Fetched(NamedTuple):
    """What became of one segment asked of a peer."""

    info: SegmentInfo
    size: int  # bytes fetched (0 if none were read)
    stored: bool  # False: not written (it was there already when linked, or ``error``)
    error: FetchFailed | None = None  # this segment alone failed; the others may not have


class _Checked(NamedTuple):
    """A body that hashes to its name, waiting for the disk thread."""

    info: SegmentInfo
    data: memoryview  # a view of a :class:`_Buffers` buffer, given back once written


def _check(data: bytearray | memoryview, info: SegmentInfo, url: str) -> None:
    """Raise HashMismatch unless ``data`` hashes to ``info``'s name (hashlib releases the GIL,
    so the disk thread writes the previous segment meanwhile)."""
    hasher = hashlib.sha256(data)
    if hasher.digest() != info.hash:
        raise _mismatch(url, len(data), hasher)


def _mismatch(url: str, size: int, hasher) -> HashMismatch:
    return HashMismatch(
        f"{url!r} sent {size} bytes with sha256 {content_id(hasher)!r}, not the name's: discarded"
    )


def _read_body(resp, length: int) -> bytearray:
    """The next ``length`` bytes of ``resp``, in one buffer; IncompleteRead if it ends first."""
    buffer = bytearray(length)
    size = resp.readinto(buffer) if length else 0
    if size != length:  # the connection closed early: the transfer broke
        raise http.client.IncompleteRead(bytes(size), length - size)
    return buffer


#: An error answer's body is read (so the connection stays usable) only up to this size.
_ERROR_BODY = 64 * 1024


def _skip_error_body(resp) -> None:
    """Read a short error body to its end; a long or unknown one is left unread (the
    connection is then closed rather than reused)."""
    if resp.length is not None and resp.length <= _ERROR_BODY:
        resp.read()


def _settled(job) -> bool:
    """The outcome of a disk job, waited for even if this greenlet is killed meanwhile,
    so that no temp file outlives the fetch that made it."""
    try:
        return job.get()
    except BaseException:
        job.wait()
        raise


def _too_large(url: str, size: int, max_size: int, declared: bool) -> TooLarge:
    how = f"declares {size} bytes" if declared else "sent more than that"
    return TooLarge(
        f"{url!r} {how}: more than --max-segment-mb {max_size // (1024 * 1024)}: refused"
    )


class _Buffers:
    """Body buffers for batches, used again once written (by any batch of the fetcher).

    A fresh buffer per segment costs the allocator zeroing it (about 2 % of the
    client's CPU) and, past the allocator's threshold, page faults. A buffer is
    ``AHEAD`` bytes longer than its segment so that the read of a body can bring
    the next segment's line along (one system call less per segment); see
    :meth:`~services.backfiller.client._Response.readinto`.
    """

    AHEAD = 4096

    __slots__ = ("_free", "_room")

    def __init__(self) -> None:
        self._free: list[bytearray] = []
        self._room = 0  # the largest segment seen: every buffer made since has room for it

    def take(self, size: int) -> memoryview:
        """A view of ``size + AHEAD`` bytes of a free buffer (contents undefined)."""
        if size > self._room:
            self._room = size
            self._free.clear()  # too small for this one, maybe for the next ones
        buffer = self._free.pop() if self._free else bytearray(self._room + self.AHEAD)
        return memoryview(buffer)[: size + self.AHEAD]

    def give(self, view: memoryview) -> None:
        """``view``'s buffer is free again (its bytes written or discarded)."""
        buffer = view.obj
        if len(buffer) >= self._room + self.AHEAD:  # type: ignore[arg-type]
            self._free.append(buffer)  # type: ignore[arg-type]


class NoBatches(Exception):
    """The peer has no batch route (a wubloader node): fetch one segment at a time."""


class BatchesBusy(NoBatches):
    """The peer's batch route is busy now (429, 503): fetch these one at a time, batch later."""


class Fetcher:
    """Fetches segments from peers; what every fetch of one backfiller shares.

    The disk thread (made at the first write, ended by :meth:`close`), the temp
    names of its files, and the body buffers of its batches. One per backfiller,
    shared by all its peers' workers (see the module docstring for why one thread).
    """

    def __init__(self) -> None:
        self._disk: gevent.threadpool.ThreadPool | None = None
        self._temp_names = writes.TempNames()
        self._buffers = _Buffers()

    def close(self) -> None:
        """End the disk thread (a later fetch makes another)."""
        disk, self._disk = self._disk, None
        if disk is not None:
            disk.kill()

    def _disk_pool(self) -> gevent.threadpool.ThreadPool:
        if self._disk is None:
            self._disk = gevent.threadpool.ThreadPool(DISK_THREADS)
        return self._disk

    def _temp_name(self, info: SegmentInfo) -> str:
        return segment_name(info.start, info.duration, "temp", self._temp_names.next())

    def _save(self, data: memoryview | bytearray, info: SegmentInfo) -> bool:
        """In the disk thread: ``data`` (checked) as ``info``'s segment, through a temp
        name; whether it was stored (False: the segment was there already, stored by
        the downloader or another process first). Raises _LocalError."""
        try:
            return writes.save(info.hour_path, self._temp_name(info), info.path, data)
        except OSError as e:
            raise _LocalError() from e

    def _save_all(self, entries: list[_Checked]) -> tuple[list[bool], _LocalError | None]:
        """In the disk thread: :meth:`_save` each entry in turn; whether each was stored,
        up to the first _LocalError (returned: the rest are left for a later pass)."""
        stored = []
        for entry in entries:
            try:
                stored.append(self._save(entry.data, entry.info))
            except _LocalError as e:
                return stored, e
        return stored, None

    def _store(
        self, resp, info: SegmentInfo, length: int | None, url: str, max_size: int
    ) -> Fetched:
        """The next ``length`` bytes of ``resp`` (all of it if None, up to ``max_size``) as
        ``info``'s segment, streamed through a temp name and linked only if they hash to
        the name. TooLarge if a body of unknown length goes past ``max_size``.
        """
        try:
            created = writes.TempFile(info.hour_path, self._temp_name(info))
        except OSError as e:
            raise _LocalError() from e
        temp: writes.TempFile | None = created
        try:
            end = length if length is not None else max_size + 1  # one byte past: too large
            while temp.size < end:
                try:
                    chunk = resp.read(min(CHUNK, end - temp.size))
                except NETWORK_ERRORS as e:  # our disk's errors are _LocalError here
                    raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
                if not chunk:
                    break
                try:
                    temp.write(chunk)
                except OSError as e:
                    raise _LocalError() from e
            size = temp.size
            if size > max_size:
                raise _too_large(url, size, max_size, False)
            if length is not None and length != size:
                raise BadAnswer(f"{url!r} sent {size} of its {length} bytes")
            if temp.hasher.digest() != info.hash:
                raise _mismatch(url, size, temp.hasher)
            linking, temp = temp, None
            try:
                return Fetched(info, size, linking.link(info.path))
            except OSError as e:
                raise _LocalError() from e
        finally:
            if temp is not None:
                temp.discard()

    def segment(
        self,
        client: PeerClient,
        path: str,
        info: SegmentInfo,
        url: str,
        max_size: int = MAX_SEGMENT,
        disk: DiskFloor | None = None,
    ) -> Fetched:
        """Fetch the peer's ``path`` into ``info.path``: the bytes fetched, and whether they
        were stored (False if the segment was already there when they were to be linked).

        ``url`` names the segment in messages. Raises HashMismatch, BadAnswer or TooLarge
        (longer than ``max_size``) for this segment alone, PeerBroken when the peer is
        unreachable or the transfer breaks, DiskLow (from ``disk``) before writing below
        the free-space floor, OSError if the file cannot be written. No temp file is
        left behind in any case.
        """
        try:
            with client.get(path) as resp:
                status, length = resp.status, resp.length
                if status == 200:
                    if length is not None and length > max_size:
                        raise _too_large(url, length, max_size, True)  # the connection is closed
                    if disk is not None:
                        disk.take(max_size if length is None else length)
                    if length is None or length > MAX_BUFFER:
                        return self._store(resp, info, length, url, max_size)
                    data = _read_body(resp, length)
                else:
                    _skip_error_body(resp)
            if status == 200:  # the connection is free again while the disk works
                _check(data, info, url)
                return Fetched(
                    info, length, _settled(self._disk_pool().spawn(self._save, data, info))
                )
        except _LocalError as e:
            raise e.__cause__ from None
        except NETWORK_ERRORS as e:
            raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
        raise BadAnswer(f"{url!r} answered {status}")

    def batch(
        self,
        client: PeerClient,
        path: str,
        infos: list[SegmentInfo],
        url: str,
        max_size: int = MAX_SEGMENT,
        disk: DiskFloor | None = None,
    ) -> Iterator[Fetched]:
        """Fetch ``infos`` (one hour's) in one request to the batch route ``path``.

        Yields a :class:`Fetched` per segment, its ``error`` a FetchFailed for that
        segment alone (the others still come, except after a TooLarge: its bytes are
        not read, so the rest of the answer is left for a later pass). Raises
        NoBatches if the peer has no such route, PeerBroken if the transfer breaks,
        DiskLow (from ``disk``) before writing below the free-space floor, OSError if a
        file cannot be written; no temp file is left behind.

        Checked segments go to the disk thread in groups: whatever arrived while its
        last group was being written, at most WINDOW waiting, so that a slow disk costs
        one hand-off per group rather than one per segment.
        """
        by_name = {info.name: info for info in infos}
        body = json.dumps(list(by_name)).encode()
        writer = self._disk_pool()
        buffers = self._buffers
        waiting: list[_Checked] = []  # checked, not yet handed to the disk thread
        job = None  # the group being written, and its entries
        try:
            with client.request("POST", path, body) as resp:
                if resp.status != 200:
                    _skip_error_body(resp)
                    busy = resp.status in (429, 503)
                    raise (BatchesBusy if busy else NoBatches)(f"{url!r} answered {resp.status}")
                for _ in by_name:
                    line = resp.readline()
                    name, _, size_text = line.decode("latin-1").rstrip("\n").partition(" ")
                    info = by_name.get(name)
                    if info is None or not (size_text == "-" or is_plain_number(size_text)):
                        raise PeerBroken(f"{url!r}: unexpected batch entry {line[:200]!r}")
                    if size_text == "-":
                        yield Fetched(
                            info, 0, False, BadAnswer(f"{url!r}: the peer has no {name!r} now")
                        )
                        continue
                    size = int(size_text)
                    if size > max_size:  # not read: the connection is closed after this
                        yield Fetched(
                            info, 0, False, _too_large(f"{url}/{name}", size, max_size, True)
                        )
                        break
                    if disk is not None:
                        disk.take(size)
                    if size > MAX_BUFFER:  # streamed to disk here, not held in memory
                        try:
                            yield self._store(resp, info, size, f"{url}/{name}", max_size)
                        except BadAnswer as e:  # short: the framing is lost with it
                            raise PeerBroken(str(e)) from e
                        except HashMismatch as e:
                            yield Fetched(info, size, False, e)
                        continue
                    room = buffers.take(size)
                    got = resp.readinto(room, size)
                    if got != size:  # the connection closed early: the transfer broke
                        raise http.client.IncompleteRead(bytes(room[:got]), size - got)
                    data = room[:size]
                    try:
                        _check(data, info, f"{url}/{name}")
                    except HashMismatch as e:
                        buffers.give(data)
                        yield Fetched(info, size, False, e)
                        continue
                    waiting.append(_Checked(info, data))
                    if job is not None and (job[0].ready() or len(waiting) >= WINDOW):
                        done, job = job, None
                        yield from self._written(*done)
                    if job is None:
                        job = writer.spawn(self._save_all, waiting), waiting
                        waiting = []
            if job is not None:
                done, job = job, None
                yield from self._written(*done)
            if waiting:  # _written waits for its job even if this greenlet is killed
                yield from self._written(writer.spawn(self._save_all, waiting), waiting)
        except _LocalError as e:
            raise e.__cause__ from None
        except NETWORK_ERRORS as e:
            raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
        finally:
            if job is not None:  # a broken transfer, a stop: let the writes finish
                job[0].wait()

    def _written(self, job, entries: list[_Checked]) -> Iterator[Fetched]:
        """A :class:`Fetched` for each entry once ``job`` is done, its buffer free again;
        then raise its _LocalError, if any."""
        done, error = _settled(job)
        for entry in entries:
            self._buffers.give(entry.data)
        for entry, stored in zip(entries, done, strict=False):
            yield Fetched(entry.info, len(entry.data), stored)
        if error is not None:
            raise error


def store_tombstone(hour_dir: str, name: str) -> bool:
    """Create the empty tombstone ``name`` in ``hour_dir``; False if it was there already.

    A peer's tombstone is copied as it is: an empty file, never the segment it
    hides, and never deleting a local copy of that segment (the tombstone alone
    hides it, on this node and on wubloader's).
    """
    try:
        fd = writes.create(os.path.join(hour_dir, name), hour_dir)
    except FileExistsError:
        return False
    writes.close(fd)
    return True
