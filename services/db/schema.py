"""The database schema (docs/DESIGN.md#schema), as SQL that every service applies at start.

Applying it is idempotent: every object is created only if missing, and the
whole script runs in one transaction while holding an advisory lock, so two
processes starting together take turns instead of racing on the catalogue
(plain ``CREATE TABLE IF NOT EXISTS`` can still fail with a unique violation
when two sessions run it at the same instant).

The constraints are the database's own: whatever client writes a row, it
cannot put an event into a state the cutter would misread.
"""

import hashlib
import logging
from typing import Any

import psycopg

from services.db.audit import AUDIT_SQL, trigger_sql
from services.db.connection import Database

logger = logging.getLogger(__name__)

__all__ = [
    "BOOKKEEPING",
    "EDIT_INPUTS",
    "NOTIFY_CHANNEL",
    "OPTIONAL_EDIT_INPUTS",
    "PUBLISHING_EDIT_INPUTS",
    "SHEET_INPUTS",
    "STATES",
    "THUMBNAIL_INPUTS",
    "THUMBNAIL_MODES",
    "apply_schema",
]

STATES = ("UNEDITED", "EDITED", "CLAIMED", "FINALIZING", "TRANSCODING", "DONE")

SHEET_INPUTS: tuple[str, ...] = (
    "sheet_name",
    "event_start",
    "event_end",
    "category",
    "description",
    "submitter_winner",
    "poster_moment",
    "image_links",
    "notes",
)

# -- publishing (docs/DESIGN.md#publishing): wubloader's names --------------------------
#: The sheet's tags (a sheet input).
SHEET_INPUTS += ("tags",)
#: The video's own tags and public (true) or unlisted (false). Unlike the inputs
#: above, NULL video_tags is allowed (an edit made before them: no tags).
PUBLISHING_EDIT_INPUTS = ("video_tags", "public")
# -- end of publishing -----------------------------------------------------------------

#: What an editor submits; a cutter's claim checks none of these changed since it looked.
EDIT_INPUTS: tuple[str, ...] = (
    "allow_holes",
    "uploader_whitelist",
    "upload_location",
    "video_start",
    "video_end",
    "video_title",
    "video_description",
    "video_channel",
    "video_quality",
)

#: Edit inputs an old client may leave NULL (a single range is video_start/video_end).
OPTIONAL_EDIT_INPUTS: tuple[str, ...] = ("video_ranges", "video_transitions")

# -- thumbnails (docs/DESIGN.md#thumbnails): wubloader's column names ------------------
#: The thumbnail's edit inputs; optional (an old client sends none: thumbnail_mode NONE).
THUMBNAIL_INPUTS = (
    "thumbnail_mode",
    "thumbnail_time",
    "thumbnail_template",
    "thumbnail_image",
    "thumbnail_crop",
    "thumbnail_location",
)
THUMBNAIL_MODES = ("NONE", "BARE", "TEMPLATE", "CUSTOM")
OPTIONAL_EDIT_INPUTS += THUMBNAIL_INPUTS
# -- end of thumbnails ------------------------------------------------------------------

EDIT_INPUTS += OPTIONAL_EDIT_INPUTS
EDIT_INPUTS += PUBLISHING_EDIT_INPUTS  # publishing

#: Columns the write trigger keeps (docs/DESIGN.md#versions): never an input, never compared.
BOOKKEEPING = ("version", "last_writer", "last_write", "last_changes", "write_as")
_BOOKKEEPING_SQL = ", ".join(f"'{c}'" for c in BOOKKEEPING)

#: The channel every new version of an event is announced on (services.db.notify).
NOTIFY_CHANNEL = "fastseg_events"

# Any 64-bit number unique to this lock; pg_advisory_xact_lock takes a bigint.
_SCHEMA_LOCK = 0x66617374736567  # b"fastseg"

_ENUM_VALUES = ", ".join(f"'{s}'" for s in STATES)
_EDIT_INPUTS_SET = " AND ".join(
    f"{c} IS NOT NULL"
    for c in EDIT_INPUTS
    if c not in OPTIONAL_EDIT_INPUTS + PUBLISHING_EDIT_INPUTS
)

# Times are TIMESTAMP WITHOUT TIME ZONE holding UTC, like segment names (naive UTC).
SCHEMA_SQL = f"""
DO $$ BEGIN
    CREATE TYPE event_state AS ENUM ({_ENUM_VALUES});
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

CREATE TABLE IF NOT EXISTS events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),

    sheet_name TEXT NOT NULL,
    event_start TIMESTAMP,
    event_end TIMESTAMP,
    category TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    submitter_winner TEXT NOT NULL DEFAULT '',
    poster_moment BOOLEAN NOT NULL DEFAULT FALSE,
    image_links TEXT[] NOT NULL DEFAULT '{{}}',
    notes TEXT NOT NULL DEFAULT '',

    allow_holes BOOLEAN,
    uploader_whitelist TEXT[],  -- empty: any cutter may take it
    upload_location TEXT,
    video_start TIMESTAMP,
    video_end TIMESTAMP,
    video_title TEXT,
    video_description TEXT,
    video_channel TEXT,
    video_quality TEXT,

    state event_state NOT NULL DEFAULT 'UNEDITED',
    uploader TEXT,
    error TEXT,
    video_id TEXT,
    video_link TEXT,
    editor TEXT,
    edit_time TIMESTAMP,
    upload_time TIMESTAMP
);

CREATE INDEX IF NOT EXISTS events_state ON events (state);

-- A clip of several ranges: video_ranges is an n x 2 array of [start, end] in order,
-- video_transitions a JSON array of n - 1 joins, each null (a hard cut) or
-- {{"type": "fade" | "crossfade", "seconds": N}}. NULL ranges: one range, video_start
-- to video_end. With ranges, video_start/video_end are the first start and last end.
ALTER TABLE events ADD COLUMN IF NOT EXISTS video_ranges TIMESTAMP[][];
ALTER TABLE events ADD COLUMN IF NOT EXISTS video_transitions JSONB;

CREATE OR REPLACE FUNCTION fastseg_ranges_ok(r TIMESTAMP[][]) RETURNS BOOLEAN
LANGUAGE SQL IMMUTABLE AS $$
    SELECT COALESCE(array_ndims(r) = 2 AND array_length(r, 2) = 2, FALSE)
        AND COALESCE(bool_and(r[i][2] > r[i][1] AND (i = 1 OR r[i][1] >= r[i - 1][2])), FALSE)
    FROM generate_subscripts(r, 1) AS i
$$;

-- A draft: edit inputs saved without submitting them (the API's JSON body, as given),
-- who saved it and when. Submitting an edit clears it.
ALTER TABLE events ADD COLUMN IF NOT EXISTS draft JSONB;
ALTER TABLE events ADD COLUMN IF NOT EXISTS draft_editor TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS draft_time TIMESTAMP;

-- Versions: every write that changes a row, by any client, gets a new version, and the
-- row records who wrote it (write_as, which a writer may set in its UPDATE to name
-- itself, else the connection's application_name), when, and which columns changed.
-- write_as is always NULL once written: the trigger moves it into last_writer.
ALTER TABLE events ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN IF NOT EXISTS last_writer TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS last_write TIMESTAMP;
ALTER TABLE events ADD COLUMN IF NOT EXISTS last_changes TEXT[];
ALTER TABLE events ADD COLUMN IF NOT EXISTS write_as TEXT;

CREATE OR REPLACE FUNCTION fastseg_event_written() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changes TEXT[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(n.key ORDER BY n.key) INTO changes
        FROM jsonb_each(to_jsonb(NEW)) AS n JOIN jsonb_each(to_jsonb(OLD)) AS o USING (key)
        WHERE n.value IS DISTINCT FROM o.value AND n.key NOT IN ({_BOOKKEEPING_SQL});
        IF changes IS NULL THEN  -- nothing changed: the same version
            NEW.version := OLD.version;
            NEW.last_writer := OLD.last_writer;
            NEW.last_write := OLD.last_write;
            NEW.last_changes := OLD.last_changes;
            NEW.write_as := NULL;
            RETURN NEW;
        END IF;
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := 1;
        changes := ARRAY['created'];
    END IF;
    NEW.last_changes := changes;
    NEW.last_writer := COALESCE(NULLIF(NEW.write_as, ''), current_setting('application_name'));
    NEW.last_write := now() AT TIME ZONE 'UTC';
    NEW.write_as := NULL;
    RETURN NEW;
END $$;

DO $$ BEGIN
    CREATE TRIGGER events_written BEFORE INSERT OR UPDATE ON events
        FOR EACH ROW EXECUTE FUNCTION fastseg_event_written();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Every write that makes a new version tells the listeners (docs/DESIGN.md#state-machine):
-- cutters wake at once for an EDITED row, the events stream and the sheet sync follow. The
-- schema is in the payload, as several schemas of one database share the channel. NOTIFY is
-- sent at commit, and only if the transaction commits.
CREATE OR REPLACE FUNCTION fastseg_event_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.version IS DISTINCT FROM OLD.version THEN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', json_build_object(
            'schema', TG_TABLE_SCHEMA, 'id', NEW.id, 'state', NEW.state,
            'version', NEW.version, 'changes', NEW.last_changes)::text);
    END IF;
    RETURN NULL;
END $$;

DO $$ BEGIN
    CREATE TRIGGER events_notify AFTER INSERT OR UPDATE ON events
        FOR EACH ROW EXECUTE FUNCTION fastseg_event_notify();
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Publishing (docs/DESIGN.md#publishing), with wubloader's names: the sheet's tags, the
-- video's own tags (the team's default tags are added when it is published), and public
-- (false: uploaded unlisted). Chapters are lines of video_description (no column).
ALTER TABLE events ADD COLUMN IF NOT EXISTS tags TEXT[] NOT NULL DEFAULT '{{}}';
ALTER TABLE events ADD COLUMN IF NOT EXISTS video_tags TEXT[];
ALTER TABLE events ADD COLUMN IF NOT EXISTS public BOOLEAN NOT NULL DEFAULT TRUE;
-- End of publishing.

CREATE TABLE IF NOT EXISTS nodes (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    backfill_from BOOLEAN NOT NULL DEFAULT TRUE
);

-- The upload locations each cutter serves, written at its start and touched by its
-- heartbeat; an edit may only name a location some live cutter serves.
CREATE TABLE IF NOT EXISTS locations (
    node TEXT NOT NULL,
    name TEXT NOT NULL,
    backend TEXT NOT NULL,
    public_url TEXT,
    heartbeat TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (node, name)
);

CREATE TABLE IF NOT EXISTS editors (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
"""

# -- thumbnails (docs/DESIGN.md#thumbnails) ---------------------------------------------
# Idempotent: the type and domain are made once, the columns added if missing. A box is
# wubloader's box_coords: four integers, left, top, right, bottom, in pixels.
_THUMBNAIL_MODES_SQL = ", ".join(f"'{m}'" for m in THUMBNAIL_MODES)
SCHEMA_SQL += f"""
DO $$ BEGIN
    CREATE TYPE thumbnail_mode AS ENUM ({_THUMBNAIL_MODES_SQL});
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

DO $$ BEGIN
    CREATE DOMAIN box_coords AS INTEGER[] CHECK (cardinality(VALUE) = 4 OR VALUE IS NULL);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- NONE: no thumbnail; BARE: the frame at thumbnail_time; TEMPLATE: that frame cropped
-- (thumbnail_crop) and placed (thumbnail_location) under a template's artwork; CUSTOM:
-- thumbnail_image, a PNG. thumbnail_last_written: the JPEG the cutter last uploaded.
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_mode thumbnail_mode NOT NULL DEFAULT 'NONE';
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_time TIMESTAMP;
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_template TEXT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_image BYTEA;
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_crop box_coords;
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_location box_coords;
ALTER TABLE events ADD COLUMN IF NOT EXISTS thumbnail_last_written BYTEA;

-- Thumbnail templates: the artwork (a PNG whose transparent area shows the frame), the
-- credit line's attribution, and the default crop of the frame and its place in the image.
CREATE TABLE IF NOT EXISTS templates (
    name TEXT PRIMARY KEY,
    image BYTEA NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    attribution TEXT NOT NULL DEFAULT '',
    crop box_coords NOT NULL,
    location box_coords NOT NULL
);
"""
THUMBNAIL_CONSTRAINTS = {
    # wubloader's: what each mode needs once an edit is submitted
    "thumbnail_time_set": (
        "state = 'UNEDITED' OR thumbnail_mode IN ('NONE', 'CUSTOM') OR thumbnail_time IS NOT NULL"
    ),
    "thumbnail_template_set": (
        "state = 'UNEDITED' OR thumbnail_mode <> 'TEMPLATE' OR thumbnail_template IS NOT NULL"
    ),
    "thumbnail_image_set": (
        "state = 'UNEDITED' OR thumbnail_mode <> 'CUSTOM' OR thumbnail_image IS NOT NULL"
    ),
}
# -- end of thumbnails ------------------------------------------------------------------

# The audit trail (services.db.audit): every table an operator's change reaches.
SCHEMA_SQL += AUDIT_SQL + "".join([
    trigger_sql("events", BOOKKEEPING),
    trigger_sql("nodes"),
    trigger_sql("locations", ("heartbeat",)),  # touched every 30 s by each cutter
    trigger_sql("editors"),
    trigger_sql("templates"),  # an artwork change keeps its bytes: templates change rarely
])  # fmt: skip

#: Which schema this is: a database whose ``fastseg_schema`` row holds it runs no DDL at a
#: service's start (DDL takes table locks that can deadlock with a running cutter's writes).
SCHEMA_VERSION = hashlib.sha256(SCHEMA_SQL.encode()).hexdigest()[:16]
SCHEMA_SQL += """
CREATE TABLE IF NOT EXISTS fastseg_schema (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    version TEXT NOT NULL
);
"""

# name -> CHECK expression. Added one by one when missing, so an older table gains new ones.
CONSTRAINTS = {
    # Editing needs every edit input; a manual upload goes straight to DONE without them.
    "edit_inputs_set": f"state IN ('UNEDITED', 'DONE') OR ({_EDIT_INPUTS_SET})",
    # Whoever holds a job is named, so its restart can find its own rows.
    "uploader_set": "state IN ('UNEDITED', 'EDITED', 'DONE') OR uploader IS NOT NULL",
    "done_has_link": "state <> 'DONE' OR (video_link IS NOT NULL AND upload_time IS NOT NULL)",
    # The transcode checker asks the upload location about video_id.
    "transcoding_has_video": (
        "state <> 'TRANSCODING' OR "
        "(video_id IS NOT NULL AND video_link IS NOT NULL AND upload_time IS NOT NULL)"
    ),
    "video_range_forward": "video_start IS NULL OR video_end IS NULL OR video_end > video_start",
    "event_range_forward": "event_start IS NULL OR event_end IS NULL OR event_end >= event_start",
    # Ranges non-empty and in order; video_start/video_end their outer bounds.
    "video_ranges_ordered": (
        "video_ranges IS NULL OR (fastseg_ranges_ok(video_ranges)"
        " AND video_start = video_ranges[1][1]"
        " AND video_end = video_ranges[array_length(video_ranges, 1)][2])"
    ),
    # One transition per join, and only with ranges.
    "video_transitions_per_join": (
        "video_transitions IS NULL OR (video_ranges IS NOT NULL"
        " AND jsonb_typeof(video_transitions) = 'array'"
        " AND jsonb_array_length(video_transitions) = array_length(video_ranges, 1) - 1)"
    ),
    **THUMBNAIL_CONSTRAINTS,
}


def _is_current(db: Database) -> bool:
    """Whether this schema version is applied and every constraint is there (reads only)."""
    row = db.query_one(
        "SELECT to_regclass('fastseg_schema') IS NOT NULL AS present,"
        " to_regclass('events') IS NOT NULL AS events",
        idempotent=True,
    )
    if not (row.present and row.events):
        return False
    row = db.query_one(
        "SELECT (SELECT version FROM fastseg_schema) AS version, ARRAY(SELECT conname::text"
        " FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'c') AS have",
        idempotent=True,
    )
    return bool(row.version == SCHEMA_VERSION and set(CONSTRAINTS) <= set(row.have))


def apply_schema(db: Database) -> None:
    """Create whatever of the schema is missing (in the connection's first schema).

    Safe to call from any number of processes at once, and again later.
    """

    if _is_current(db):
        return  # nothing to create: no DDL, so no table locks

    def run(cur: psycopg.Cursor[Any]) -> None:
        cur.execute(SCHEMA_SQL)
        cur.execute(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid = 'events'::regclass AND contype = 'c'"
        )
        have = {row.conname for row in cur.fetchall()}
        for name, check in CONSTRAINTS.items():
            if name not in have:
                cur.execute(f"ALTER TABLE events ADD CONSTRAINT {name} CHECK ({check})")
        cur.execute(
            "INSERT INTO fastseg_schema (version) VALUES (%s)"
            " ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
            (SCHEMA_VERSION,),
        )

    # A session lock, taken before the transaction: a SERIALIZABLE transaction's
    # snapshot dates from its first statement, so a lock taken inside it would
    # let us in after the other process committed, still looking at the catalogue
    # from before.
    conn = db.conn
    conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
    try:
        db.transact(run)
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
    logger.debug("schema applied")
