"""Changes to events as they happen: one ``LISTEN`` connection, fanned out to subscribers.

The events table's trigger announces every new version of a row on
:data:`~services.db.schema.NOTIFY_CHANNEL` (docs/DESIGN.md#state-machine),
whoever wrote it. A :class:`Listener` holds one autocommit connection that
listens there and hands each change of its own schema to every subscriber, in
its own greenlet; subscribers must not block (they set an event, or put on a
bounded queue). psycopg waits for notifications through gevent's patched
``select``, so the wait parks only this greenlet.

A lost connection (the database restarted, the backend was terminated) is
reconnected with backoff; meanwhile ``connected`` is False and whoever relies
on the listener keeps polling at its old interval, as it always does in the
background. Every subscriber gets ``None`` after each (re)connection: changes
may have been missed, so look again.
"""

import json
import logging
from collections.abc import Callable
from typing import NamedTuple

import gevent.event
import psycopg

from services.db.connection import DatabaseError, connect
from services.db.schema import NOTIFY_CHANNEL
from services.runtime import backoff

logger = logging.getLogger(__name__)

__all__ = ["NOT_WORK", "Change", "Listener", "wake_on"]

#: Seconds between looks at ``stopping`` while no notification comes.
WAIT = 1.0
#: Reconnection backoff: first wait and cap (seconds), full jitter.
RECONNECT_BASE, RECONNECT_CAP = 1.0, 30.0


class Change(NamedTuple):
    """A new version of one event, as the trigger announced it."""

    id: str
    state: str
    version: int
    changes: tuple[str, ...] = ()  # the columns this version changed ("created" for a new row)


Subscriber = Callable[[Change | None], None]


def parse(payload: str, schema: str) -> Change | None:
    """The change a payload announces, or None if it is another schema's or not ours."""
    try:
        data = json.loads(payload)
        if data.get("schema") != schema:
            return None
        changes = tuple(str(c) for c in data.get("changes") or ())
        return Change(str(data["id"]), str(data["state"]), int(data["version"]), changes)
    except (ValueError, TypeError, KeyError, AttributeError):
        logger.debug("ignored a notification that is not an event's change: %.80r", payload)
        return None


class Listener:
    """``run()`` in a greenlet: listens until ``stopping`` is set, calling subscribers."""

    def __init__(
        self, dsn: str, stopping: gevent.event.Event, *, application_name: str = "fastseg-listen"
    ) -> None:
        self.dsn = dsn
        self.stopping = stopping
        self.application_name = application_name
        self.connected = False
        self.reconnects = 0  # connections after the first
        self._subscribers: list[Subscriber] = []
        self._conn: psycopg.Connection | None = None

    def subscribe(self, fn: Subscriber) -> Subscriber:
        self._subscribers.append(fn)
        return fn

    def unsubscribe(self, fn: Subscriber) -> None:
        try:
            self._subscribers.remove(fn)
        except ValueError:
            pass

    def _tell(self, change: Change | None) -> None:
        for fn in list(self._subscribers):
            try:
                fn(change)
            except Exception:
                logger.exception("an event subscriber failed: it stays subscribed")

    def run(self) -> None:
        failures = 0
        first = True
        while not self.stopping.is_set():
            try:
                conn = connect(self.dsn, application_name=self.application_name)
            except (DatabaseError, psycopg.Error) as e:
                failures += 1
                self._wait(failures, e)
                continue
            self._conn = conn
            try:
                (schema,) = conn.execute("SELECT current_schema()").fetchall()[0]
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                self.connected = True
                if not first:
                    self.reconnects += 1
                    logger.info("listening for event changes again")
                else:
                    logger.debug("listening for event changes in schema %r", schema)
                first = False
                failures = 0
                self._tell(None)  # anything may have changed while we were not listening
                while not self.stopping.is_set():
                    for notify in conn.notifies(timeout=WAIT):
                        change = parse(notify.payload, schema)
                        if change is not None:
                            self._tell(change)
            except psycopg.Error as e:
                failures += 1
                self.connected = False
                self._wait(failures, e)
            finally:
                self.connected = False
                self._conn = None
                conn.close()

    def _wait(self, failures: int, error: Exception) -> None:
        delay = backoff.delay(failures, RECONNECT_BASE, RECONNECT_CAP, backoff.full_jitter)
        # WARNING once, then quieter: a database away for an hour must not flood the log.
        log = logger.warning if failures == 1 else logger.debug
        log(
            "not listening for event changes (%s): polling meanwhile; trying again in %.1fs",
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            delay,
        )
        self.stopping.wait(delay)

    def close(self) -> None:
        """Break the connection (for a stop that does not wait for ``WAIT``)."""
        conn = self._conn
        if conn is not None:
            conn.close()


def wake_on(
    event: gevent.event.Event,
    states: tuple[str, ...] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> Subscriber:
    """A subscriber that sets ``event`` on a change to one of ``states`` (any, if None).

    A change of only the ``ignore`` columns does not wake: a cutter noting holes in
    ``error`` must not wake another that notes its own, and so on for ever.
    """

    def subscriber(change: Change | None) -> None:
        if change is None:
            event.set()
        elif (states is None or change.state in states) and not set(change.changes) <= ignore:
            event.set()

    return subscriber


#: Columns whose change alone gives a cutter no new work (a note, a draft).
NOT_WORK = frozenset({"error", "draft", "draft_editor", "draft_time"})
