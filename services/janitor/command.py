"""``fastseg janitor``: its options and run loop (one sweep, or one every ``--interval``)."""

import logging
import os

import prometheus_client

from services.common import service
from services.common.metrics import MetricSet
from services.janitor.sweep import sweep

logger = logging.getLogger(__name__)


class JanitorMetrics(MetricSet):
    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.temps_settled = prometheus_client.Counter(
            "fastseg_janitor_temp_segments_total",
            "Orphaned temp segments handled, by outcome (kept as partial, removed when empty)",
            ["outcome"],
            registry=registry,
        )
        self.sweeps = prometheus_client.Counter(
            "fastseg_janitor_sweeps_total", "Sweeps of the archive done", registry=registry
        )


def main(argv: list[str] | None = None) -> int:
    parser = service.argument_parser("janitor", "Turn orphaned temp segments into partial ones.")
    parser.add_argument(
        "--min-age", type=service.non_negative_seconds, default=600.0,
        help="only touch temp files unchanged for this long (default: 600 s)",
    )  # fmt: skip
    parser.add_argument(
        "--interval", type=service.positive_seconds, default=None,
        help="sweep again every this many seconds until stopped (default: sweep once and exit)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    base_dir = os.path.abspath(args.base_dir)
    if not os.path.isdir(base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    service.setup(args)
    stopping = service.stop_on_signals()
    warned: set[str] = set()
    metrics = JanitorMetrics.of(prometheus_client.REGISTRY)
    while not stopping.is_set():
        counts = sweep(base_dir, args.min_age, warned=warned)
        metrics.sweeps.inc()
        metrics.temps_settled.labels("kept").inc(counts.kept)
        metrics.temps_settled.labels("removed").inc(counts.removed)
        logger.info(
            "sweep of %r: %d kept as partial, %d empty removed, %d too young, %d vanished",
            base_dir, counts.kept, counts.removed, counts.young, counts.vanished,
        )  # fmt: skip
        if args.interval is None:
            break
        stopping.wait(args.interval)
    return 0
