"""Database fixtures (defined in tests/db/fixtures.py)."""

from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401
