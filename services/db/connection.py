"""One PostgreSQL connection per greenlet, with the rules of docs/DESIGN.md#schema built in.

Every connection is autocommit and SERIALIZABLE (set for the session, so single
statements and explicit transactions both take part in serializable snapshot
isolation) and returns rows as named tuples.

Driver: psycopg 3. From 3.1.14 it notices gevent's monkey-patching by itself and
waits on sockets through the patched ``select``, so a slow query parks only its
own greenlet; psycopg2 needs psycogreen's global wait callback for the same
effect, and is in maintenance. ``tests/db/test_gevent.py`` checks the claim.

A :class:`Database` is not shared between greenlets: a transaction is a property
of a connection, so two greenlets on one connection would run in each other's
transactions. Give each greenlet its own.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import RowFactory, namedtuple_row

from services.runtime import backoff

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The session settings the audit trigger reads (services.db.audit).
ACTOR = "fastseg.actor"
ADDRESS = "fastseg.address"

__all__ = [
    "ConnectionLost",
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "backoff_delay",
    "connect",
    "transaction",
]

#: Tries of a transaction that keeps failing to serialize before giving up.
SERIALIZATION_ATTEMPTS = 10


class DatabaseError(Exception):
    """Base of the errors this module adds on top of psycopg's."""


class DatabaseUnavailable(DatabaseError):
    """The server could not be reached; the caller should back off and try again."""


class ConnectionLost(DatabaseError):
    """The connection broke during a statement: it may or may not have taken effect."""


def backoff_delay(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before try ``attempt + 1``: "full jitter" exponential backoff.

    Jitter spreads out the retries of transactions that just collided, so they
    do not collide again in lockstep. New code calls :mod:`services.runtime.backoff`.
    """
    return backoff.delay(attempt + 1, base, cap, backoff.full_jitter)


def connect(
    dsn: str, *, application_name: str = "fastseg", timeout: float = 10
) -> psycopg.Connection:
    """A new autocommit, SERIALIZABLE connection returning named-tuple rows.

    Raises DatabaseUnavailable (naming the DSN without its password) if the
    server cannot be reached.
    """
    try:
        conn = psycopg.connect(
            dsn,
            autocommit=True,
            row_factory=namedtuple_row,
            connect_timeout=max(1, int(timeout)),
            application_name=application_name,
        )
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {_redact(dsn)!r}: {str(e).strip()}; "
            "check that the server is running and the DSN (--db or FASTSEG_DB) is right"
        ) from e
    try:
        # Session-wide, so autocommit statements are serializable too, not only BEGIN blocks.
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    except psycopg.Error:
        conn.close()
        raise
    conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    return conn


def _redact(dsn: str) -> str:
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    if "password" in params:
        params["password"] = "***"
    return psycopg.conninfo.make_conninfo("", **params)


@contextlib.contextmanager
def transaction(conn: psycopg.Connection) -> Iterator[psycopg.Cursor]:
    """``with transaction(conn) as cur:`` runs the block as one SERIALIZABLE transaction.

    Commits on normal exit, rolls back on an exception. A serialization failure
    surfaces as psycopg's SerializationFailure: use :meth:`Database.transact` to
    have the whole block retried.
    """
    with conn.transaction(), conn.cursor() as cur:
        yield cur


def _is_broken(conn: psycopg.Connection | None) -> bool:
    return conn is None or conn.closed or conn.broken


class Database:
    """A lazily (re)connecting connection with serialization-failure retries.

    ``query`` runs one autocommit statement; ``transact`` runs a function in a
    transaction. Both retry on SQLSTATE 40001 with jittered backoff, which is
    safe because the failed transaction was rolled back. A connection that
    breaks mid-statement is dropped (the next call reconnects) and reported as
    ConnectionLost, since the statement may have committed; pass
    ``idempotent=True`` for work that is harmless to repeat and it is retried
    once on a fresh connection instead. A statement a read-only server refused
    (a standby, mid-failover) is retried once on a new connection, which a
    multi-host DSN with ``target_session_attrs=read-write`` points at the
    primary; then DatabaseUnavailable, for the caller's backoff.
    """

    def __init__(
        self,
        dsn: str,
        *,
        application_name: str = "fastseg",
        timeout: float = 10,
        actor: str | None = None,
    ):
        self.dsn = dsn
        self.application_name = application_name
        self.timeout = timeout
        self._conn: psycopg.Connection | None = None
        # Who the audit trail names for this connection's writes, and the client's address.
        self._who: tuple[str, str] = (actor or "", "")
        self._who_set: tuple[str, str] | None = None  # what the live connection has

    def act_as(self, actor: str | None, address: str | None = None) -> None:
        """Name the writer of what follows in the audit trail (docs/DESIGN.md#audit-trail).

        ``actor`` None: the database role is named. Set on the connection before
        its next statement, and again on every reconnection.
        """
        self._who = (actor or "", address or "")

    def __repr__(self) -> str:
        return f"Database({_redact(self.dsn)!r})"

    @property
    def conn(self) -> psycopg.Connection:
        """The live connection, connecting first if there is none or it broke.

        Raises DatabaseUnavailable if the server cannot be reached.
        """
        for _ in range(2):
            if _is_broken(self._conn):
                if self._conn is not None:
                    logger.warning("database connection was lost: reconnecting")
                    self._conn.close()
                self._conn = connect(
                    self.dsn, application_name=self.application_name, timeout=self.timeout
                )
                self._who_set = ("", "")  # a new session has neither setting
            assert self._conn is not None
            if self._who_set == self._who:
                return self._conn
            try:
                # Session settings (not LOCAL): autocommit statements see them too.
                self._conn.execute(
                    "SELECT set_config(%s, %s, false) AS actor,"
                    " set_config(%s, %s, false) AS address",
                    (ACTOR, self._who[0], ADDRESS, self._who[1]),
                )
            except psycopg.OperationalError:
                if not _is_broken(self._conn):
                    raise
                continue  # an idle connection the server dropped: harmless to redo on a new one
            self._who_set = self._who
            return self._conn
        raise DatabaseUnavailable(
            f"the connection to {_redact(self.dsn)!r} broke twice as it was set up: "
            "check the server's log"
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._who_set = None

    def query(
        self,
        sql: str,
        params: Any = None,
        *,
        idempotent: bool = False,
        rows: RowFactory[Any] | None = None,
    ) -> list[Any]:
        """Run one statement; its rows (empty for statements that return none).

        ``rows`` makes them typed (``rows.EVENT_ROWS``); by default named tuples.
        """

        def run(cur: psycopg.Cursor) -> list[Any]:
            if rows is not None:
                cur.row_factory = rows
            cur.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []

        return self._retry(run, in_transaction=False, idempotent=idempotent)

    def query_one(
        self,
        sql: str,
        params: Any = None,
        *,
        idempotent: bool = False,
        rows: RowFactory[Any] | None = None,
    ) -> Any:
        """The first row of one statement's result, or None."""
        found = self.query(sql, params, idempotent=idempotent, rows=rows)
        return found[0] if found else None

    def transact(self, fn: Callable[[psycopg.Cursor], T], *, idempotent: bool = False) -> T:
        """``fn(cursor)`` in one transaction, retried whole on serialization failure.

        ``fn`` may run several times, so it must not have effects outside the
        database (or they must be harmless to repeat).
        """
        return self._retry(fn, in_transaction=True, idempotent=idempotent)

    def _retry(
        self, fn: Callable[[psycopg.Cursor], T], *, in_transaction: bool, idempotent: bool
    ) -> T:
        reconnected = False
        attempt = 0
        while True:
            conn = self.conn
            try:
                if in_transaction:
                    with transaction(conn) as cur:
                        return fn(cur)
                with conn.cursor() as cur:
                    return fn(cur)
            except pg_errors.SerializationFailure:
                attempt += 1
                if attempt >= SERIALIZATION_ATTEMPTS:
                    raise
                delay = backoff_delay(attempt)
                logger.info("serialization failure (try %d): retrying in %.3fs", attempt, delay)
                time.sleep(delay)
            except pg_errors.ReadOnlySqlTransaction as e:
                # A standby (a failover not finished, or a DSN without
                # target_session_attrs=read-write): the statement was refused, so trying
                # it again is safe; a new connection goes through the DSN's host list.
                self.close()
                if not reconnected:
                    reconnected = True
                    logger.warning("database is read-only (%s): reconnecting", e)
                    continue
                raise DatabaseUnavailable(
                    f"the database at {_redact(self.dsn)!r} is read-only ({str(e).strip()}): "
                    "a standby not yet promoted, or a DSN that reaches only standbys; "
                    "add target_session_attrs=read-write to a DSN of several hosts"
                ) from e
            except psycopg.OperationalError as e:
                if not _is_broken(conn):
                    raise  # a server-side error on a healthy connection: not ours to hide
                self.close()
                if idempotent and not reconnected:
                    reconnected = True
                    logger.warning("database connection lost (%s): retrying on a new one", e)
                    continue
                raise ConnectionLost(
                    f"database connection lost during a statement ({str(e).strip()}); "
                    "it may or may not have taken effect"
                ) from e
