"""The restreamer's editor: the ``/editor`` page and ``/api/events`` (docs/DESIGN.md#events-api).

``fastseg restreamer --db DSN --editor-token-file F`` turns on the events API
(:mod:`.api`); without ``--db`` (or ``$FASTSEG_DB``) there is none, and the
page still plays the archive. Config keys read by :func:`init_app`:

* ``DATABASE``: PostgreSQL DSN of the events table; unset or empty, no API.
* ``EDITOR_TOKEN_FILE``: ``TOKEN EMAIL`` lines (:mod:`.tokens`); unset, the API
  is read-only and every write answers 401 saying so.
"""

import argparse
import logging
import os

from flask import Flask

from services.restreamer.editor import api, page
from services.restreamer.editor.databases import Databases
from services.restreamer.editor.tokens import TokenFile, TokenFileError

logger = logging.getLogger(__name__)

__all__ = ["TokenFileError", "add_arguments", "config_from_args", "init_app"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--db`` and ``--editor-token-file`` on the restreamer's parser."""
    parser.add_argument(
        "--db",
        default=os.environ.get("FASTSEG_DB") or None,
        metavar="DSN",
        help="PostgreSQL of the events table: serves /api/events for the editor page "
        "(default: $FASTSEG_DB; neither: no events API)",
    )
    parser.add_argument(
        "--editor-token-file",
        metavar="FILE",
        help="'TOKEN EMAIL' lines: the editors who may change events (default: none, read-only)",
    )


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """The app config for the parsed arguments; bad ones end in ``parser.error``."""
    if args.editor_token_file and not args.db:
        parser.error("--editor-token-file needs --db (or $FASTSEG_DB): the tokens guard its events")
    if args.editor_token_file:
        try:
            TokenFile(args.editor_token_file)
        except TokenFileError as exc:
            parser.error(str(exc))
    return {"DATABASE": args.db, "EDITOR_TOKEN_FILE": args.editor_token_file}


def init_app(app: Flask) -> None:
    """Register the page, and the events API if ``DATABASE`` is configured.

    Raises TokenFileError if ``EDITOR_TOKEN_FILE`` is set but unusable.
    """
    app.register_blueprint(page.blueprint)
    dsn = app.config.get("DATABASE")
    if not dsn:
        return
    token_file = app.config.get("EDITOR_TOKEN_FILE")
    tokens = TokenFile(token_file) if token_file else None
    app.extensions["events_api"] = (Databases(dsn), tokens)
    app.register_blueprint(api.blueprint)
    logger.info("events API on /api/events (%s)", "writable" if tokens else "read-only")
