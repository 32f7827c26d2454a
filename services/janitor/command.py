"""``fastseg janitor``: its options and run loop (one sweep, or one every ``--interval``)."""

import argparse
import logging
import math
import os
import sys

from services.archive import times
from services.janitor import recent
from services.janitor.sweep import sweep
from services.runtime import contract, service
from services.runtime.metrics import MetricSet, counter

logger = logging.getLogger(__name__)


class JanitorMetrics(MetricSet):
    temps_settled = counter(
        "fastseg_janitor_temp_segments_total",
        "Orphaned temp segments handled, by outcome (kept as partial, removed when empty)",
        ("outcome",),
    )
    sweeps = counter("fastseg_janitor_sweeps_total", "Sweeps of the archive done")


def keep_hours(text: str) -> float:
    """An argparse type for ``--keep-hours``: a finite number of hours above zero."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a number of hours above zero (like 48), got {text!r}"
        )
    return value


def add_keep_hours_argument(parser: argparse.ArgumentParser, also: str = "") -> None:
    """``--keep-hours N``, for the janitor and the node (whose ``also`` adds the backfiller)."""
    parser.add_argument(
        "--keep-hours", type=keep_hours, default=None, metavar="N",
        help="also delete whole hour directories that ended more than N hours ago, except hours "
             "an event not yet DONE still needs (read from the events table of --db) and "
             f"hours a restreamer is serving from{also} (default: keep every hour)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    from services.db import add_db_argument  # noqa: PLC0415 - imported after patching

    parser = service.argument_parser(
        "janitor", "Turn orphaned temp segments into partial ones; optionally retire old hours."
    )
    parser.add_argument(
        "--min-age", type=service.non_negative_seconds, default=600.0,
        help="only touch temp files unchanged for this long (default: 600 s)",
    )  # fmt: skip
    parser.add_argument(
        "--interval", type=service.positive_seconds, default=None,
        help="sweep again every this many seconds until stopped (default: sweep once and exit)",
    )  # fmt: skip
    add_keep_hours_argument(parser)
    add_db_argument(
        parser, "only used with --keep-hours, which never runs without a database",
        neither="the embedded cluster of --base-dir is started and its events are the ones kept",
    )  # fmt: skip
    return parser


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """The parsed arguments, ``base_dir`` made absolute once checked."""
    base_dir = os.path.abspath(args.base_dir)
    if not os.path.isdir(base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    return argparse.Namespace(**{**vars(args), "base_dir": base_dir})


def run(options: argparse.Namespace, stopping, registry) -> int:
    base_dir = options.base_dir
    if options.keep_hours is None:
        _run(options, base_dir, stopping, registry, None)
        return 0
    from services.db import Database, apply_schema, database_dsn  # noqa: PLC0415
    from services.janitor.retire import RetireMetrics  # noqa: PLC0415

    with database_dsn(options.db, base_dir) as dsn:
        db = Database(dsn, application_name="fastseg-janitor")
        try:
            apply_schema(db)
            _run(options, base_dir, stopping, registry, (db, RetireMetrics.of(registry)))
        finally:
            db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)


def _run(args, base_dir: str, stopping, registry, retiring) -> None:
    warned: set[str] = set()
    metrics = JanitorMetrics.of(registry)
    recent_metrics = recent.RecentMetrics.of(registry)
    while not stopping.is_set():
        counts = sweep(base_dir, args.min_age, warned=warned)
        metrics.sweeps.inc()
        metrics.temps_settled.labels("kept").inc(counts.kept)
        metrics.temps_settled.labels("removed").inc(counts.removed)
        logger.info(
            "sweep of %r: %d kept as partial, %d empty removed, %d too young, %d vanished",
            base_dir, counts.kept, counts.removed, counts.young, counts.vanished,
        )  # fmt: skip
        if retiring is not None:
            _retire(base_dir, args.keep_hours, *retiring)
        recent.update(base_dir, times.utc_now(), recent_metrics)
        if args.interval is None:
            break
        stopping.wait(args.interval)


def _retire(base_dir: str, keep: float, db, metrics) -> None:
    import psycopg  # noqa: PLC0415

    from services.db import DatabaseError  # noqa: PLC0415
    from services.janitor.retire import needed_ranges, retire_old_hours  # noqa: PLC0415

    try:
        ranges = needed_ranges(db)
    except (DatabaseError, psycopg.Error) as exc:
        # Without the events we cannot tell which hours are needed: delete nothing.
        logger.warning("no hours retired: cannot read the events table (%s)", exc)
        return
    counts = retire_old_hours(base_dir, keep, ranges, times.utc_now())
    metrics.record(counts)
    logger.info(
        "retiring hours older than %g h in %r: %d retired (%d files, %d bytes), "
        "%d kept for events, %d being served, %d unfinished",
        keep, base_dir, counts.retired, counts.files, counts.bytes,
        counts.needed, counts.busy, counts.unfinished,
    )  # fmt: skip
