"""A directory of small files with a bounded total size; the least recently used go first.

Each entry is one file named by its key (callers give safe names: hex digests).
Writes go to a temp name and are renamed, so a reader never sees half a file;
a hit touches the file's mtime, which is what eviction orders by. The total is
counted once from the directory, then kept up to date as entries are added.
"""

import logging
import os
import time
import uuid

logger = logging.getLogger(__name__)

__all__ = ["DiskCache"]


class DiskCache:
    def __init__(self, directory: str, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"cache size must be >= 0 bytes, got {max_bytes!r}")
        self.directory = directory
        self.max_bytes = max_bytes
        self._total: int | None = None  # counted on first write

    def _path(self, key: str) -> str:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"cache key {key!r} is not a plain file name")
        return os.path.join(self.directory, key)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        try:
            os.utime(path)
        except OSError:
            pass  # evicted meanwhile: the bytes read are still good
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store ``data``; a failure to write is logged, never raised (it is only a cache)."""
        if len(data) > self.max_bytes:
            return
        path = self._path(key)
        temp = os.path.join(self.directory, f".{uuid.uuid4().hex}.tmp")
        try:
            os.makedirs(self.directory, exist_ok=True)
            with open(temp, "wb") as f:
                f.write(data)
            os.replace(temp, path)
        except OSError as exc:
            logger.warning("cannot cache %r in %r: %s", key, self.directory, exc)
            try:
                os.unlink(temp)
            except OSError:
                pass
            return
        if self._total is None:
            self._total = self._count()
        else:
            self._total += len(data)
        if self._total > self.max_bytes:
            self._evict()

    def _entries(self) -> list[tuple[float, int, str]]:
        out = []
        try:
            with os.scandir(self.directory) as it:
                for e in it:
                    if e.name.startswith("."):
                        continue
                    try:
                        st = e.stat()
                    except FileNotFoundError:
                        continue
                    out.append((st.st_mtime, st.st_size, e.path))
        except FileNotFoundError:
            pass
        return out

    def _count(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _evict(self) -> None:
        """Remove the least recently used entries until the total is 10% under the bound."""
        began = time.monotonic()
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        target = self.max_bytes * 9 // 10
        removed = 0
        for _, size, path in entries:
            if total <= target:
                break
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            total -= size
            removed += 1
        self._total = total
        logger.debug("evicted %d cached files from %r in %.3f s", removed, self.directory,
                     time.monotonic() - began)  # fmt: skip

    @property
    def total_bytes(self) -> int:
        if self._total is None:
            self._total = self._count()
        return self._total
