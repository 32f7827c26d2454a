"""``fastseg backfiller``: its options, the peer list, and the run loop.

One :class:`~services.backfiller.worker.PeerWorker` runs per peer. Peers come from
``--node`` (fixed), ``--node-file`` or ``--db`` (both read again every
``--node-refresh`` seconds: workers start for new peers and stop for removed
ones). SIGTERM or SIGINT stops every worker; fetches in flight are cut off and
leave no temp file. ``--run-once`` makes one pass per peer and exits: 0 if every
pass was clean, 1 if any failed. Peers are not trusted: their tombstones are copied
only from those named by ``--trust-tombstones-from``, and every limit of
:mod:`~services.backfiller.limits` holds for all of them.
"""

import argparse
import dataclasses
import datetime as dt
import functools
import logging
import os
import socket
import ssl
import sys

from fastseg import peer_tls
from services.archive import times
from services.archive.names import is_safe_name
from services.backfiller.limits import MAX_SEGMENT_MB, MIN_FREE_MB, DiskFloor
from services.backfiller.listing import ORDERS
from services.backfiller.manager import Backfiller
from services.backfiller.metrics import BackfillerMetrics
from services.backfiller.peers import Peer, nodes_from_db, parse_node, read_node_file
from services.backfiller.worker import Config
from services.db.options import add_db_argument
from services.runtime import contract, service
from services.runtime.notices import Notifier, add_notify_arguments

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main", "options", "run"]


def _concurrency(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 256, got {text!r}")
    return int(text)


def _megabytes(low: int):
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < low:
            raise argparse.ArgumentTypeError(f"expected whole MB >= {low}, got {text!r}")
        return int(text)

    return parse


def _node(text: str) -> Peer:
    try:
        return parse_node(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_start(text: str) -> dt.datetime | float:
    """``--start``: a number of hours ago (a float), or a time (a naive UTC datetime).

    Raises ValueError naming the text if it is neither.
    """
    try:
        hours = float(text)
    except ValueError:
        pass
    else:
        if not hours >= 0:
            raise ValueError(f"--start {text!r}: hours ago must be >= 0")
        return hours
    try:
        return times.parse(text)
    except ValueError:
        raise ValueError(
            f"--start {text!r} is neither a number of hours ago nor a time: "
            f"give hours such as 48, or a time; {times.HELP}"
        ) from None


def _start_time(start: dt.datetime | float | None) -> dt.datetime | None:
    if start is None or isinstance(start, dt.datetime):
        return start
    return times.utc_now() - dt.timedelta(hours=start)


def build_parser() -> argparse.ArgumentParser:
    parser = service.argument_parser(
        "backfiller", "Fetch the segments that peers have and this node lacks, verified by hash."
    )
    parser.add_argument(
        "--channels",
        nargs="+",
        required=True,
        metavar="CHANNEL",
        help="channels to backfill (directories under BASE)",
    )
    parser.add_argument(
        "--qualities",
        help="comma-separated qualities, e.g. source,480p (default: every one a peer lists)",
    )
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="do not copy peers' chat batches (BASE/CHANNEL/chat; default: copy them)",
    )
    peers = parser.add_mutually_exclusive_group()
    peers.add_argument(
        "--node",
        action="append",
        type=_node,
        metavar="[NAME=]URL",
        help="a peer's restreamer root URL; repeat for several (named host:port unless NAME=)",
    )
    peers.add_argument(
        "--node-file",
        metavar="FILE",
        help="peers as 'NAME URL' lines ('#' comments), read again at each refresh",
    )
    add_db_argument(
        peers, "peers are the rows of the nodes table with backfill_from set",
        neither="--node or --node-file is needed",
    )  # fmt: skip
    peer_tls.add_arguments(parser)  # --peer-ca, --insecure-peers
    parser.add_argument(
        "--trust-tombstones-from",
        action="append",
        default=[],
        metavar="NAME",
        help="copy the tombstones of this peer (its name, or its root URL); repeat for "
        "several (default: none: a peer cannot hide segments here)",
    )
    parser.add_argument(
        "--max-segment-mb",
        type=_megabytes(1),
        default=MAX_SEGMENT_MB,
        metavar="MB",
        help="refuse a peer's segment larger than this (default: %(default)s)",
    )
    parser.add_argument(
        "--min-free-mb",
        type=_megabytes(0),
        default=MIN_FREE_MB,
        metavar="MB",
        help="stop backfilling while the archive's disk has less free space than this, "
        "leaving it to the downloader (default: %(default)s)",
    )
    parser.add_argument(
        "--localhost",
        default=socket.gethostname(),
        help="this node's name, host:port or host: never backfilled from (default: %(default)s)",
    )
    parser.add_argument(
        "--start",
        metavar="HOURS_AGO_OR_TIME",
        help="check no hour before this: hours ago (e.g. 48) or a time (default: every hour)",
    )
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="newest",
        help="order of the hours in a pass, after the two newest (default: newest)",
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=5,
        help="fetches in flight per peer (default: %(default)s)",
    )
    parser.add_argument(
        "--recent-cutoff",
        type=service.non_negative_seconds,
        default=60.0,
        metavar="SECONDS",
        help="leave segments younger than this to the local downloader (default: %(default)s)",
    )
    parser.add_argument(
        "--run-once",
        action="store_true",
        help="one pass per peer, then exit (0 if every pass was clean)",
    )
    parser.add_argument(
        "--pass-interval",
        type=service.positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="wait between clean passes over a peer (default: %(default)s)",
    )
    parser.add_argument(
        "--backoff",
        type=service.positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="wait after a failed pass; doubles per failure (default: %(default)s)",
    )
    parser.add_argument(
        "--max-backoff",
        type=service.positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="longest wait after failed passes (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=service.positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="connect and read timeout of each request (default: %(default)s)",
    )
    parser.add_argument(
        "--progress-interval",
        type=service.positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="during a pass, log progress this often (default: %(default)s)",
    )
    parser.add_argument(
        "--node-refresh",
        type=service.positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="read --node-file or --db again this often (default: %(default)s)",
    )
    add_notify_arguments(parser, "a peer has been unreachable for --notify-peer-down-after")
    parser.add_argument(
        "--notify-peer-down-after",
        type=service.positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="a peer none of whose passes finished for this long is a notice (and another "
        "when one finishes again) (default: %(default)s)",
    )
    return parser


def _check_names(parser, option: str, names: list[str]) -> None:
    if len(set(names)) != len(names):
        parser.error(f"{option}: a name is given twice in {names!r}")
    for name in names:
        if not is_safe_name(name):
            parser.error(f"{option}: {name!r} cannot be a directory name under --base-dir")


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed arguments, checked, and what is derived from them."""

    args: argparse.Namespace
    qualities: tuple[str, ...] | None  # None: every one a peer lists
    start: dt.datetime | float | None  # see parse_start
    tls: ssl.SSLContext | None  # how https peers are checked (None: the system's CAs)


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    _check_names(parser, "--channels", args.channels)
    qualities = None
    if args.qualities is not None:
        qualities = [q.strip() for q in args.qualities.split(",") if q.strip()]
        if not qualities:
            parser.error(f"--qualities {args.qualities!r} names no quality")
        _check_names(parser, "--qualities", qualities)
    if args.node is None and args.node_file is None and args.db is None:
        parser.error("no peers: give --node URL (repeatable), --node-file FILE or --db DSN")
    try:
        start = None if args.start is None else parse_start(args.start)
    except ValueError as e:
        parser.error(str(e))
    if args.max_backoff < args.backoff:
        parser.error(f"--max-backoff {args.max_backoff} is less than --backoff {args.backoff}")
    if not os.path.isdir(args.base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    if args.node_file is not None:
        try:
            read_node_file(args.node_file)  # a typo should stop us now, not at the first refresh
        except (OSError, ValueError) as e:
            parser.error(f"--node-file: {e}")
    tls = peer_tls.context_from_args(args, parser)
    return Options(args, None if qualities is None else tuple(qualities), start, tls)


def run(options: Options, stopping, registry) -> int:
    args = options.args
    peer_tls.warn_if_insecure(args)
    metrics = BackfillerMetrics.of(registry)
    base_dir = os.path.abspath(args.base_dir)
    config = Config(
        base_dir=base_dir,
        channels=tuple(args.channels),
        qualities=options.qualities,
        chat=not args.no_chat,
        start=functools.partial(_start_time, options.start),
        order=args.order,
        concurrency=args.concurrency,
        recent_cutoff=dt.timedelta(seconds=args.recent_cutoff),
        pass_interval=args.pass_interval,
        backoff=args.backoff,
        max_backoff=args.max_backoff,
        timeout=args.timeout,
        run_once=args.run_once,
        progress_interval=args.progress_interval,
        metrics=metrics,
        trusted=frozenset(name.rstrip("/") for name in args.trust_tombstones_from),
        max_segment=args.max_segment_mb * 1024 * 1024,
        disk=DiskFloor(base_dir, args.min_free_mb * 1024 * 1024, metrics.disk_low),
        tls=options.tls,
    )
    load, load_errors = _peer_loader(args)
    backfiller = Backfiller(config, load, args.localhost, args.node_refresh, stopping, load_errors)
    notifier = Notifier.from_args(args, "backfiller", args.localhost).start()
    backfiller.watch_peers(notifier, args.notify_peer_down_after)
    try:
        return backfiller.run()
    finally:
        notifier.close()


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)


def _peer_loader(args):
    """A function returning the current peers, and what else it raises when its source is down."""
    if args.node is not None:
        nodes = list(args.node)
        return (lambda: nodes), ()
    if args.node_file is not None:
        return functools.partial(read_node_file, args.node_file), ()
    # Imported only here: the database driver is not needed for --node or --node-file.
    import psycopg  # noqa: PLC0415

    from services.db import Database, DatabaseError, apply_schema  # noqa: PLC0415

    database = Database(args.db, application_name="fastseg-backfiller")
    applied = []

    def from_db() -> list[Peer]:
        if not applied:
            apply_schema(database)  # every service applies it before first use
            applied.append(True)
        return nodes_from_db(database)

    # psycopg's own errors too: a missing table, a refused password.
    return from_db, (DatabaseError, psycopg.Error)
