"""``fastseg sheetsync``: its options and run loop.

    fastseg sheetsync CONFIG.json [--db DSN] [--base-dir B] [--poll-interval S]

Polls the spreadsheet that CONFIG.json names every few seconds, and sooner
(at most every ``sync.MIN_INTERVAL``) when the database announces a changed event (see
:mod:`.config` for the file, :mod:`.sync` for what a pass does and who wins
when the sheet and the database disagree) until SIGTERM or SIGINT.
"""

import argparse
import dataclasses
import logging
import sys

import gevent
import gevent.event
import requests

from services.db import (
    Database,
    EmbeddedPostgresError,
    add_db_argument,
    database_dsn,
)
from services.db.notify import Listener, wake_on
from services.runtime import contract, service
from services.sheetsync.config import Config as SyncConfig
from services.sheetsync.config import load_config
from services.sheetsync.metrics import Metrics
from services.sheetsync.sheets import SheetsClient
from services.sheetsync.sync import SheetSync

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main", "options", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = service.argument_parser(
        "sheetsync", "Keep the events table and a team's Google spreadsheet in step."
    )
    parser.add_argument(
        "config", metavar="CONFIG.json",
        help="the spreadsheet, its worksheets and columns, and the credentials file",
    )  # fmt: skip
    add_db_argument(parser)
    parser.add_argument(
        "--poll-interval", type=service.positive_seconds, metavar="SECONDS",
        help="seconds between passes; a changed event wakes it sooner, at most every 2 s "
             "(default: the config's poll_interval, or 5)",
    )  # fmt: skip
    return parser


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed arguments, and the sync's settings read from CONFIG.json."""

    args: argparse.Namespace
    config: SyncConfig


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    try:
        config = load_config(args.config)
    except ValueError as e:
        parser.error(str(e))
    if args.poll_interval is not None:
        config = dataclasses.replace(config, poll_interval=args.poll_interval)
    return Options(args, config)


def run(options: Options, stopping, registry) -> int:
    with contract.own_stop(stopping) as own:  # a failed sync stops only itself
        return _run(options.args, options.config, own, registry)


def _run(args, config: SyncConfig, stopping, registry) -> int:
    session = requests.Session()
    client = SheetsClient(config.oauth(session), config.spreadsheet_id, api_base=config.api_base)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            db = Database(dsn, application_name="fastseg-sheetsync", actor="sheetsync")
            wake = gevent.event.Event()  # any change to an event: write back soon
            listener = Listener(dsn, stopping, application_name="fastseg-sheetsync listen")
            listener.subscribe(wake_on(wake))
            sync = SheetSync(config, client, db, Metrics.of(registry), stopping, wake)
            worker = gevent.spawn(sync.run)
            listening = gevent.spawn(listener.run)
            logger.info(
                "syncing spreadsheet %r (%s) every %.1fs",
                config.spreadsheet_id, ", ".join(w.name for w in config.worksheets),
                config.poll_interval,
            )  # fmt: skip
            gevent.wait([stopping, worker], count=1)
            stopping.set()
            worker.join()
            listening.join()
            db.close()
            session.close()
            if worker.exception is not None:
                logger.critical("sheet sync stopped: %s", worker.exception)
                return 1
    except EmbeddedPostgresError as e:
        logger.critical("%s", e)
        return 1
    logger.info("sheet sync stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)
