"""The restreamer's editor: the ``/editor`` page and ``/api/events`` (docs/DESIGN.md#events-api).

``fastseg restreamer --editor-token-file F`` turns on the events API
(:mod:`.api`) on ``--db DSN`` (or ``$FASTSEG_DB``), and without either on the
embedded cluster of ``--base-dir``, as every other command does. ``--no-db``
serves without events: the page still plays the archive. Config keys read by
:func:`init_app`:

* ``DATABASE``: PostgreSQL DSN of the events table; unset or empty, no API.
* ``PUBLISHING``: the team's :class:`~services.db.publishing.Conventions`
  (``--publishing FILE``); unset, none.
* ``EDITOR_TOKEN_FILE``: ``TOKEN EMAIL [ROLE,...]`` lines (:mod:`.tokens`, the
  roles checked by :func:`.roles.require_role`); unset, the API is read-only and
  every write answers 401 saying so. The tokens also open the costly cuts
  (:mod:`services.restreamer.cuts`), so they work without a database.
"""

import argparse
import logging

from flask import Flask

from services.db import add_db_argument
from services.db.publishing import Conventions, add_publishing_argument
from services.restreamer.editor import api, page, stream, templates
from services.restreamer.editor.databases import Databases
from services.restreamer.editor.tokens import TokenFile, TokenFileError

logger = logging.getLogger(__name__)

__all__ = ["TokenFileError", "add_arguments", "close_streams", "config_from_args", "init_app"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--db``, ``--no-db``, ``--editor-token-file`` and ``--publishing`` on the
    restreamer's parser."""
    add_db_argument(parser, "the events table, served at /api/events for the editor page")
    parser.add_argument(
        "--no-db",
        action="store_true",
        help="serve video and the page without any events API (and start no database)",
    )
    parser.add_argument(
        "--editor-token-file",
        metavar="FILE",
        help="'TOKEN EMAIL [ROLE,...]' lines: the editors who may change events and make full "
        "cuts of their own encoding; roles editor (implied), artist, admin "
        "(default: none: events read-only, full cuts by preset only)",
    )
    add_publishing_argument(parser)


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The app config for the parsed arguments; bad ones end in ``parser.error``.

    ``DATABASE`` is the DSN given, or None: the caller starts the embedded
    cluster unless ``args.no_db``.
    """
    if args.no_db and args.db:
        parser.error("--no-db and --db contradict each other: give one (or unset $FASTSEG_DB)")
    if args.editor_token_file:
        try:
            TokenFile(args.editor_token_file)
        except TokenFileError as exc:
            parser.error(str(exc))
    return {
        "DATABASE": args.db,
        "EDITOR_TOKEN_FILE": args.editor_token_file,
        "PUBLISHING": args.publishing,
    }


def init_app(app: Flask) -> None:
    """Register the page, and the events API if ``DATABASE`` is configured.

    Raises TokenFileError if ``EDITOR_TOKEN_FILE`` is set but unusable.
    """
    app.register_blueprint(page.blueprint)
    token_file = app.config.get("EDITOR_TOKEN_FILE")
    tokens = TokenFile(token_file) if token_file else None
    app.extensions["editor_tokens"] = tokens  # roles.current_editor() checks them
    # What the edit checks add to an editor's text (services.db.publishing).
    app.extensions["publishing"] = app.config.get("PUBLISHING") or Conventions()
    dsn = app.config.get("DATABASE")
    if not dsn:
        return
    databases = Databases(dsn)
    app.extensions["events_api"] = (databases, tokens)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(templates.blueprint)
    metrics = app.extensions["restreamer"].metrics
    app.extensions["events_stream"] = stream.Hub(dsn, databases, metrics)
    app.register_blueprint(stream.blueprint)
    logger.info("events API on /api/events (%s)", "writable" if tokens else "read-only")


def close_streams(app: Flask) -> None:
    """End every ``/api/events/stream`` (at stop: they would otherwise hold the drain)."""
    hub = app.extensions.get("events_stream")
    if hub is not None:
        hub.close()
