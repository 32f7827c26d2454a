"""PostgreSQL for fastseg: connections, the schema, the embedded cluster, the event states.

See docs/DESIGN.md#database. Services call :func:`database_dsn` with their ``--db`` and
``--base-dir``, make a :class:`Database` per greenlet, and :func:`apply_schema`
once before first use.
"""

from services.db import audit, locations, states
from services.db.connection import (
    ConnectionLost,
    Database,
    DatabaseError,
    DatabaseUnavailable,
    connect,
    transaction,
)
from services.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from services.db.options import add_db_argument, database_dsn
from services.db.schema import (
    EDIT_INPUTS,
    OPTIONAL_EDIT_INPUTS,
    SHEET_INPUTS,
    STATES,
    THUMBNAIL_INPUTS,
    apply_schema,
)

__all__ = [
    "EDIT_INPUTS",
    "OPTIONAL_EDIT_INPUTS",
    "SHEET_INPUTS",
    "STATES",
    "THUMBNAIL_INPUTS",
    "ConnectionLost",
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "add_db_argument",
    "apply_schema",
    "audit",
    "connect",
    "database_dsn",
    "locations",
    "states",
    "transaction",
]
