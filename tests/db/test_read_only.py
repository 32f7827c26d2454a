"""A read-only server (a standby not yet promoted) refuses writes: retried, then a clear error."""

import psycopg
import pytest

from services.db import Database, DatabaseUnavailable, apply_schema, states


def test_a_write_refused_as_read_only_is_unavailable_not_a_crash(pg_dsn):
    writable = Database(pg_dsn)
    apply_schema(writable)
    writable.close()
    # A session that is read-only, as every session of a hot standby is.
    read_only = psycopg.conninfo.make_conninfo(
        pg_dsn, options=psycopg.conninfo.conninfo_to_dict(pg_dsn)["options"]
        + " -c default_transaction_read_only=on",
    )  # fmt: skip
    database = Database(read_only)
    try:
        assert states.list_events(database) == []  # reads work on a standby
        with pytest.raises(DatabaseUnavailable, match="is read-only .* target_session_attrs"):
            states.add_event(database, "Day 1")
        assert states.list_events(database) == []  # and the connection is usable after
    finally:
        database.close()
