"""``fastseg cutter``: cut edited events out of the archive and upload them.

    fastseg cutter --name NODE --base-dir B [--db DSN] --location NAME=BACKEND[:OPTIONS] ...

Four greenlets, each with its own database connection: the job loop
(:mod:`.worker`), the transcode checker (:mod:`.transcode`), the heartbeat
that records the upload locations this cutter serves (:mod:`.announce`), and
the listener that wakes the job loop when a row becomes EDITED
(:mod:`services.db.notify`; ``--poll-interval`` stays the fallback). SIGTERM stops
between jobs (a cut in progress returns its row to EDITED; an upload being
finalized is finished first). A fatal disagreement with the database ends the
process with exit status 1, for its supervisor to restart it.
"""

import argparse
import dataclasses
import logging
import sys

import gevent
import gevent.event

from services.cutter.announce import Announcer
from services.cutter.metrics import CutterMetrics
from services.cutter.transcode import TranscodeChecker
from services.cutter.upload import parse_location
from services.cutter.worker import Cutter
from services.db import (
    Database,
    DatabaseError,
    EmbeddedPostgresError,
    add_db_argument,
    apply_schema,
    database_dsn,
)
from services.db.notify import NOT_WORK, Listener, wake_on
from services.db.publishing import Conventions, add_publishing_argument
from services.runtime import backoff, contract
from services.runtime.notices import Notifier, add_notify_arguments
from services.runtime.service import argument_parser, positive_seconds

logger = logging.getLogger(__name__)


def _location(text: str):
    try:
        return parse_location(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argument_parser("cutter", "Cut edited events and upload them.")
    add_db_argument(parser)
    parser.add_argument(
        "--name", required=True, help="this node's name: recorded as the uploader of its jobs"
    )
    parser.add_argument(
        "--location",
        action="append",
        type=_location,
        required=True,
        metavar="NAME=BACKEND[:OPTIONS]",
        help="an upload location, e.g. clips=local:/srv/clips;url=https://x/clips or "
        "yt=youtube:/etc/fastseg/youtube.json; add ;full=container=mp4,crf=23 for full cuts "
        "(repeat for several)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=5.0,
        help="seconds between looks for work; a new edit announced by the database wakes "
        "it sooner (default: %(default)s)",
    )
    parser.add_argument(
        "--transcode-interval",
        type=positive_seconds,
        default=30.0,
        help="seconds between asking locations whether uploads finished processing "
        "(default: %(default)s)",
    )
    add_publishing_argument(parser)
    add_notify_arguments(parser, "a clip is DONE (its title and link) or an event fails")
    return parser


def _schema(dsn: str, stopping) -> bool:
    """Apply the schema, waiting for the database to come up; False if told to stop first."""
    attempt = 0
    while not stopping.is_set():
        db = Database(dsn, application_name="fastseg-cutter")
        try:
            apply_schema(db)
            return True
        except DatabaseError as e:
            attempt += 1
            delay = backoff.delay(attempt, 1.0, 30)
            logger.warning("database not ready (%s): trying again in %.1fs", e, delay)
            stopping.wait(delay)
        finally:
            db.close()
    return False


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed arguments, checked, the upload locations by name and the team's
    publishing conventions (``--publishing``)."""

    args: argparse.Namespace
    locations: dict
    conventions: Conventions


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    locations = {}
    for location in args.location:
        if location.name in locations:
            parser.error(f"location {location.name!r} is given twice")
        locations[location.name] = location
    if not args.name.strip():
        parser.error("--name is empty: give this node's name")
    if args.poll_interval <= 0 or args.transcode_interval <= 0:
        parser.error("--poll-interval and --transcode-interval must be positive seconds")
    return Options(args, locations, args.publishing)


def run(options: Options, stopping, registry) -> int:
    with contract.own_stop(stopping) as own:  # a worker that fails stops only the cutter
        return _run(options, own, registry)


def _run(options: Options, stopping, registry) -> int:
    args, locations = options.args, options.locations
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            if not _schema(dsn, stopping):
                return 0
            actor = f"cutter:{args.name}"  # the audit trail's name for its writes
            cutter_db = Database(dsn, application_name=f"fastseg-cutter {args.name}", actor=actor)
            checker_db = Database(
                dsn, application_name=f"fastseg-cutter {args.name} transcode", actor=actor
            )
            # Woken by the database when a row becomes EDITED (claimable); polling stays.
            listen_as = f"fastseg-cutter {args.name} listen"
            listener = Listener(dsn, stopping, application_name=listen_as)
            wake = gevent.event.Event()
            listener.subscribe(wake_on(wake, ("EDITED",), NOT_WORK))
            notifier = Notifier.from_args(args, "cutter", args.name).start()
            cutter = Cutter(
                args.name, args.base_dir, cutter_db, locations, stopping, args.poll_interval,
                CutterMetrics.of(registry), wake, notifier, options.conventions,
            )  # fmt: skip
            checker = TranscodeChecker(checker_db, locations, stopping, args.transcode_interval,
                                       notifier)  # fmt: skip
            announce_db = Database(
                dsn, application_name=f"fastseg-cutter {args.name} heartbeat", actor=actor
            )
            announcer = Announcer(announce_db, args.name, locations, stopping,
                                  metrics=CutterMetrics.of(registry))  # fmt: skip
            workers = [gevent.spawn(cutter.run), gevent.spawn(checker.run)]
            heart = gevent.spawn(announcer.run)
            listening = gevent.spawn(listener.run)
            logger.info("cutter %r running for %s", args.name, ", ".join(sorted(locations)))
            gevent.wait([stopping, *workers], count=1)
            stopping.set()
            gevent.joinall([*workers, heart, listening])
            notifier.close()
            cutter_db.close()
            checker_db.close()
            announce_db.close()
            failed = [w for w in workers if w.exception is not None]
            if failed:
                logger.critical("cutter stopped: %s", failed[0].exception)
                return 1
    except EmbeddedPostgresError as e:
        logger.critical("%s", e)
        return 1
    logger.info("cutter stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)
