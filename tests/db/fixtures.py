"""PostgreSQL fixtures for any test directory.

``pg_server`` is the suite's one database server: ``FASTSEG_TEST_DSN`` if set,
otherwise the embedded cluster (the same code the services use), started once
per session because initdb is slow. ``pg_dsn`` gives each test its own empty
schema on that server, dropped afterwards; ``db`` adds the applied fastseg
schema and a connected :class:`Database`.

Use them from another directory's conftest.py with
``from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401``, or from the
root conftest with ``pytest_plugins = ["tests.db.fixtures"]``.
"""

import os
import shutil
import uuid

import psycopg
import pytest

from services.db import Database, EmbeddedPostgres, apply_schema

# Durability is pointless for throw-away test data, and fsync is slow here.
TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


# One cluster for the whole session, however many conftests import ``pg_server``
# (each import is a fixture of its own to pytest): the first starts it, the last
# one torn down stops it.
_shared: dict = {"cluster": None, "dsn": None, "users": 0}


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """The base DSN of the suite's PostgreSQL server."""
    if os.environ.get("FASTSEG_TEST_DSN"):
        yield os.environ["FASTSEG_TEST_DSN"]
        return
    if _shared["users"] == 0:
        cluster = EmbeddedPostgres(tmp_path_factory.mktemp("pgbase"), settings=TEST_SETTINGS)
        _shared.update(cluster=cluster, dsn=cluster.start())
    _shared["users"] += 1
    try:
        yield _shared["dsn"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            cluster = _shared["cluster"]
            cluster.stop()
            if cluster.link.is_symlink():  # placed outside the tmp dir (run as root): clean up
                shutil.rmtree(cluster.data_dir, ignore_errors=True)


def schema_dsn(server_dsn: str, schema: str) -> str:
    """``server_dsn`` with ``schema`` first on the search path (where the schema SQL goes)."""
    return psycopg.conninfo.make_conninfo(server_dsn, options=f"-c search_path={schema}")


@pytest.fixture
def pg_dsn(pg_server):
    """A DSN whose objects land in a fresh, empty schema of their own."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema_dsn(pg_server, schema)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        # Idle sessions of services under test hold no locks; a stuck one must not hang the suite.
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def db(pg_dsn):
    """A :class:`Database` on a fresh schema with the fastseg tables applied."""
    database = Database(pg_dsn, application_name="fastseg-tests")
    apply_schema(database)
    yield database
    database.close()
