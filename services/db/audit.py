"""The audit trail (docs/DESIGN.md#audit-trail): who changed which row, from what to what.

A trigger writes it, so no client can skip it: ``fastseg_audit()`` runs AFTER
INSERT, UPDATE or DELETE of each row of an audited table and appends one row to
``audit`` (in the table's own schema) with the columns that changed, their old
and new values, and who did it. Who is the session setting ``fastseg.actor``
(each writer's :class:`~services.db.Database` sets it: an editor's email,
``sheetsync``, ``cutter:NODE``, ``cli:USER``), else the database role
(``current_user``), so an operator's UPDATE in psql is recorded too;
``fastseg.address`` holds the client address of an API request.

Auditing another table is one line of SQL (:func:`trigger_sql`); arguments of
the trigger name columns whose changes alone are not worth a row (a heartbeat,
the version bookkeeping). ``audit`` itself refuses UPDATE, DELETE and TRUNCATE.
"""

import datetime as dt
import logging
from typing import Any

from services.db.connection import ACTOR, ADDRESS, Database

logger = logging.getLogger(__name__)

__all__ = ["ACTOR", "ADDRESS", "AUDIT_SQL", "changes_of", "history", "since", "trigger_sql"]

AUDIT_SQL = f"""
CREATE TABLE IF NOT EXISTS audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    actor TEXT NOT NULL,
    address TEXT,
    application TEXT,
    table_name TEXT NOT NULL,
    operation TEXT NOT NULL,
    row_key TEXT NOT NULL,
    old_values JSONB,
    new_values JSONB
);
CREATE INDEX IF NOT EXISTS audit_row ON audit (table_name, row_key, id);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);

-- TG_ARGV: columns left out of the record (a change of only these writes no row).
-- The row key is the primary key's values joined by '/'.
CREATE OR REPLACE FUNCTION fastseg_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ignored TEXT[] := COALESCE(TG_ARGV, '{{}}');
    old_row JSONB;
    new_row JSONB;
    old_values JSONB;
    new_values JSONB;
    key TEXT;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN  -- a statement, no rows: recorded as one, with no key
        key := '';
    ELSE
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, n.value)
        INTO old_values, new_values
        FROM jsonb_each(old_row) AS o JOIN jsonb_each(new_row) AS n USING (key)
        WHERE o.value IS DISTINCT FROM n.value AND NOT (o.key = ANY(ignored));
        IF old_values IS NULL THEN  -- nothing worth recording changed
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        new_values := new_row - ignored;
    ELSE
        old_values := old_row - ignored;
    END IF;
    SELECT string_agg(COALESCE(new_row, old_row) ->> a.attname, '/'
                      ORDER BY array_position(i.indkey::int2[], a.attnum))
    INTO key
    FROM pg_index AS i JOIN pg_attribute AS a
        ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = TG_RELID AND i.indisprimary;
    END IF;
    EXECUTE format('INSERT INTO %I.audit (actor, address, application, table_name,'
                   ' operation, row_key, old_values, new_values)'
                   ' VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', TG_TABLE_SCHEMA)
    USING COALESCE(NULLIF(current_setting('{ACTOR}', true), ''), current_user::text),
          NULLIF(current_setting('{ADDRESS}', true), ''),
          NULLIF(current_setting('application_name'), ''),
          TG_TABLE_NAME, TG_OP, COALESCE(key, ''), old_values, new_values;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fastseg_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit table is append-only: % of its rows is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are evidence; read them with fastseg audit';
END $$;

DO $$ BEGIN
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
        FOR EACH STATEMENT EXECUTE FUNCTION fastseg_audit_append_only();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
"""


def trigger_sql(table: str, ignore: tuple[str, ...] = ()) -> str:
    """The SQL that audits ``table``'s rows and its TRUNCATE (once: a second run changes nothing).

    ``ignore``: columns whose changes are not recorded, and whose change alone
    writes no audit row.
    """
    args = ", ".join(f"'{column}'" for column in ignore)
    return f"""
DO $$ BEGIN
    CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION fastseg_audit({args});
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$ BEGIN
    CREATE TRIGGER {table}_audit_truncate AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION fastseg_audit();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
"""


_COLUMNS = (
    "id, time, actor, address, application, table_name, operation, row_key, old_values, new_values"
)


def history(db: Database, table: str, key: str) -> list[Any]:
    """Every audit row of one row of ``table`` (its primary key as text), oldest first."""
    return db.query(
        f"SELECT {_COLUMNS} FROM audit WHERE table_name = %s AND row_key = %s ORDER BY id",
        (table, key),
        idempotent=True,
    )


def since(db: Database, start: dt.datetime) -> list[Any]:
    """Every audit row from ``start`` (naive UTC) on, of every table, oldest first."""
    return db.query(
        f"SELECT {_COLUMNS} FROM audit WHERE time >= %s ORDER BY id", (start,), idempotent=True
    )


def changes_of(row: Any) -> list[tuple[str, Any, Any]]:
    """``(column, old, new)`` of an audit row, by column name (None for a side it lacks)."""
    old, new = row.old_values or {}, row.new_values or {}
    return [(column, old.get(column), new.get(column)) for column in sorted({*old, *new})]
