"""Database connections for the events API: one per request greenlet, reused after.

A :class:`~services.db.Database` must not be shared by two greenlets (a
transaction belongs to a connection), so each request takes one from a small
idle list and gives it back when done. The schema is applied once, on first
use rather than at start, so a restreamer whose database is down still serves
video, and its events API answers 503 until the database is back.
"""

import contextlib
import logging
import threading
from collections.abc import Iterator

from services.db import Database, apply_schema

logger = logging.getLogger(__name__)

__all__ = ["Databases"]


class Databases:
    """Idle connections to one DSN, at most ``keep`` of them kept open."""

    def __init__(self, dsn: str, keep: int = 4) -> None:
        self.dsn = dsn
        self.keep = keep
        self._idle: list[Database] = []
        self._schema_applied = False
        # gevent patches threading, so this lock parks greenlets, not threads.
        self._schema_lock = threading.Lock()

    @contextlib.contextmanager
    def use(self, actor: str | None = None, address: str | None = None) -> Iterator[Database]:
        """A Database for this request alone, with the schema applied.

        Its writes are recorded in the audit trail as ``actor``'s (the editor's email)
        from ``address`` (the client's).
        """
        db = (
            self._idle.pop()
            if self._idle
            else Database(self.dsn, application_name="fastseg-editor")
        )
        db.act_as(actor, address)
        try:
            self._apply_schema(db)
            yield db
        except BaseException as exc:
            if not isinstance(exc, Exception):
                # Killed (a drain timeout): the connection may be mid-statement.
                db.close()
                raise
            self._give_back(db)
            raise
        self._give_back(db)

    def _give_back(self, db: Database) -> None:
        if len(self._idle) < self.keep:
            self._idle.append(db)
        else:
            db.close()

    def _apply_schema(self, db: Database) -> None:
        if self._schema_applied:
            return
        with self._schema_lock:
            if not self._schema_applied:
                apply_schema(db)
                self._schema_applied = True
                logger.info("events API: schema applied on %r", db)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
