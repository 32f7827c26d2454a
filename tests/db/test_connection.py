"""The connection manager: isolation, rows, transactions, retries, lost connections."""

import threading

import psycopg
import pytest
from psycopg import errors as pg_errors

from services.db import connection as connection_module
from services.db.connection import (
    ConnectionLost,
    Database,
    DatabaseUnavailable,
    backoff_delay,
    connect,
    transaction,
)


def test_rows_have_named_fields(db):
    row = db.query_one("SELECT 1 AS one, 'two' AS two")
    assert (row.one, row.two) == (1, "two")


def test_statements_autocommit_and_are_serializable(db, pg_dsn):
    assert db.query_one("SHOW transaction_isolation").transaction_isolation == "serializable"
    db.query("CREATE TABLE t (x int)")
    db.query("INSERT INTO t VALUES (1)")
    with connect(pg_dsn) as other:  # sees it at once: nothing was left uncommitted
        assert other.execute("SELECT x FROM t").fetchall()[0].x == 1


def test_transaction_block_is_serializable_and_commits(db):
    db.query("CREATE TABLE t (x int)")
    with transaction(db.conn) as cur:
        cur.execute("SHOW transaction_isolation")
        assert cur.fetchone().transaction_isolation == "serializable"
        cur.execute("INSERT INTO t VALUES (1)")
        cur.execute("INSERT INTO t VALUES (2)")
    assert [r.x for r in db.query("SELECT x FROM t ORDER BY x")] == [1, 2]


def test_transaction_rolls_back_on_error(db):
    db.query("CREATE TABLE t (x int)")

    def insert_then_fail():
        with transaction(db.conn) as cur:
            cur.execute("INSERT INTO t VALUES (1)")
            raise ZeroDivisionError("the error that aborts the block")

    with pytest.raises(ZeroDivisionError, match="aborts the block"):
        insert_then_fail()
    assert db.query("SELECT x FROM t") == []


def _conflicting_update(db, pg_dsn, attempts):
    """A transaction that loses a write-write race the first time it runs."""
    db.query("CREATE TABLE t (id int PRIMARY KEY, x int)")
    db.query("INSERT INTO t VALUES (1, 0)")

    def work(cur):
        attempts.append(1)
        cur.execute("SELECT x FROM t WHERE id = 1")
        x = cur.fetchone().x
        if len(attempts) == 1:  # someone else commits after our snapshot was taken
            with connect(pg_dsn) as other:
                other.execute("UPDATE t SET x = x + 100 WHERE id = 1")
        cur.execute("UPDATE t SET x = %s WHERE id = 1", (x + 1,))
        return x + 1

    return work


def test_serialization_failure_is_retried(db, pg_dsn):
    attempts = []
    result = db.transact(_conflicting_update(db, pg_dsn, attempts))
    assert len(attempts) == 2
    assert result == 101  # the retry saw the other transaction's write
    assert db.query_one("SELECT x FROM t").x == 101


def test_plain_transaction_surfaces_serialization_failure(db, pg_dsn):
    """Without transact() the failure is psycopg's, for callers that retry themselves."""
    work = _conflicting_update(db, pg_dsn, [])
    with pytest.raises(pg_errors.SerializationFailure), transaction(db.conn) as cur:
        work(cur)


def test_serialization_failure_gives_up_eventually(db, monkeypatch):
    monkeypatch.setattr(connection_module, "SERIALIZATION_ATTEMPTS", 3)
    monkeypatch.setattr(connection_module, "backoff_delay", lambda attempt: 0)
    calls = []

    def always_fails(cur):
        calls.append(1)
        cur.execute("DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$")

    with pytest.raises(pg_errors.SerializationFailure, match="forced"):
        db.transact(always_fails)
    assert len(calls) == 3


def test_serialization_failure_in_autocommit_statement_is_retried(db):
    # A statement that fails to serialize once (a sequence remembers across the retry).
    db.query("CREATE SEQUENCE tries")
    db.query(
        "CREATE FUNCTION flaky() RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('tries') = 1 THEN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END IF; "
        "RETURN 7; END $$"
    )
    assert db.query_one("SELECT flaky() AS v").v == 7
    assert db.query_one("SELECT last_value FROM tries").last_value == 2


def test_other_errors_are_not_retried(db):
    with pytest.raises(pg_errors.UndefinedTable):
        db.query("SELECT * FROM no_such_table")
    assert db.query_one("SELECT 1 AS ok").ok == 1  # the connection is still usable


def _kill_backend(db, pg_dsn):
    pid = db.query_one("SELECT pg_backend_pid() AS pid").pid
    with connect(pg_dsn) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_lost_connection_is_reported_then_reconnected(db, pg_dsn):
    _kill_backend(db, pg_dsn)
    with pytest.raises(ConnectionLost, match="may or may not have taken effect"):
        db.query("SELECT 1")
    assert db.query_one("SELECT 2 AS two").two == 2


def test_idempotent_work_is_retried_on_a_new_connection(db, pg_dsn):
    old_pid = db.query_one("SELECT pg_backend_pid() AS pid").pid
    _kill_backend(db, pg_dsn)
    assert db.query_one("SELECT pg_backend_pid() AS pid", idempotent=True).pid != old_pid


def test_unreachable_server_says_so(tmp_path):
    dsn = f"host={tmp_path} port=5432 user=nobody password=sekrit dbname=x"
    with pytest.raises(DatabaseUnavailable, match="cannot connect to PostgreSQL") as info:
        Database(dsn, timeout=2).query("SELECT 1")
    assert str(tmp_path) in str(info.value)
    assert "sekrit" not in str(info.value)
    assert "--db or FASTSEG_DB" in str(info.value)


def test_bad_dsn_is_reported():
    with pytest.raises((DatabaseUnavailable, psycopg.ProgrammingError)):
        Database("this is = not a dsn =").query("SELECT 1")


@pytest.mark.parametrize("attempt", [0, 1, 5, 50])
def test_backoff_is_jittered_and_capped(attempt):
    delays = [backoff_delay(attempt, base=0.05, cap=2.0) for _ in range(200)]
    assert all(0 <= d <= min(2.0, 0.05 * 2**attempt) for d in delays)
    assert len(set(delays)) > 1


def test_concurrent_transactions_on_separate_connections_all_land(db, pg_dsn, monkeypatch):
    """Many writers incrementing one counter: retries make every increment count."""
    # What is tested is that retries lose nothing, not how soon they give up.
    monkeypatch.setattr(connection_module, "SERIALIZATION_ATTEMPTS", 1000)
    db.query("CREATE TABLE c (id int PRIMARY KEY, n int)")
    db.query("INSERT INTO c VALUES (1, 0)")
    errors = []

    def writer():
        mine = Database(pg_dsn)
        try:
            for _ in range(10):

                def bump(cur):
                    cur.execute("SELECT n FROM c WHERE id = 1")
                    n = cur.fetchone().n
                    cur.execute("UPDATE c SET n = %s WHERE id = 1", (n + 1,))

                mine.transact(bump)
        except Exception as e:  # reported below, with the thread's failure
            errors.append(e)
        finally:
            mine.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.query_one("SELECT n FROM c").n == 40
