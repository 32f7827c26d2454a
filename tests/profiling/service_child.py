"""A toy gevent service built like the real ones, burning CPU so the sampler has work.

Run as ``python -m tests.profiling.service_child [service options]``: it uses
services.runtime.service's parser and setup (so ``--stack-sampler``,
``FASTSEG_STACK_SAMPLER=1``, ``--metrics-port`` and the log counter are wired
exactly as in production) and stops cleanly on SIGTERM.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402 - gevent must patch first
import sys  # noqa: E402

import gevent  # noqa: E402

from services.runtime import service  # noqa: E402

logger = logging.getLogger(__name__)


def burn():
    """CPU work that the flamegraph should show."""
    total = 0
    for i in range(20_000):
        total += i * i % 13
    return total


def main(argv):
    parser = service.argument_parser("profiled", "a CPU-bound toy service", base_dir=False)
    args = parser.parse_args(argv)
    service.setup(args)
    stopping = service.stop_on_signals()
    logger.warning("burning CPU until stopped")
    while not stopping.is_set():
        burn()
        gevent.sleep(0)  # let the metrics server answer
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
