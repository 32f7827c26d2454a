"""Run services' ``main`` functions as greenlets, restarting one that crashes.

A service's main returns when its own stop event is set (every service listens
for SIGTERM and SIGINT); a return while the node is not stopping, an
exception, or an exit through ``SystemExit`` counts as a crash. Restarts back
off exponentially (1 s doubling to a minute), and a service that ran for a
minute starts over at 1 s. A ``SystemExit`` with a message (a port in use, say)
is logged as that one line, without a traceback. An exit with status 2 is
argparse refusing the service's arguments: starting it again cannot help, so the
whole node stops (as on SIGTERM) and says why.
"""

import importlib
import logging
import os
import signal
import time

import gevent
import prometheus_client

from services.runtime import backoff
from services.runtime.metrics import MetricSet

logger = logging.getLogger(__name__)


class NodeMetrics(MetricSet):
    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.restarts = prometheus_client.Counter(
            "fastseg_node_service_restarts_total",
            "Services of this node restarted after a crash",
            ["service"],
            registry=registry,
        )


MODULES = {
    "downloader": "services.downloader",
    "restreamer": "services.restreamer",
    "backfiller": "services.backfiller",
    "chat-archiver": "services.chat_archiver",
    "cutter": "services.cutter",
    "janitor": "services.janitor",
    "sheetsync": "services.sheetsync",
}
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
STEADY = 60.0  # seconds of running that count as healthy again
USAGE_ERROR = 2  # argparse's exit status for arguments it refuses


class Supervisor:
    def __init__(self, stopping: gevent.event.Event, metrics: NodeMetrics):
        self.stopping = stopping
        self.metrics = metrics
        self.greenlets: dict[str, gevent.Greenlet] = {}
        self.fatal: str | None = None  # the service whose arguments were refused

    def start(self, name: str, argv: list[str]) -> None:
        main = importlib.import_module(MODULES[name]).main
        self.greenlets[name] = gevent.spawn(self._run, name, main, argv)

    def _run(self, name: str, main, argv: list[str]) -> None:
        restarts = backoff.Backoff(BACKOFF_START, BACKOFF_MAX, backoff.no_jitter)
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                code = main(list(argv))
                why = f"exited with {code!r}"
            except SystemExit as exc:  # argparse and friends
                if exc.code == USAGE_ERROR:
                    logger.error(
                        "service %r refused its arguments (above): stopping the node", name
                    )
                    self.fatal = name
                    os.kill(os.getpid(), signal.SIGTERM)  # every service stops as on SIGTERM
                    return
                why = (
                    f"exited: {exc.code}"
                    if isinstance(exc.code, str)
                    else f"exited with {exc.code!r}"
                )
            except Exception:
                logger.exception("service %r crashed", name)
                why = "crashed"
            # Its own stop handler may run just before ours: give ours a moment.
            if self.stopping.wait(0.5):
                return
            if time.monotonic() - began > STEADY:
                restarts.reset()
            delay = restarts.failed()
            self.metrics.restarts.labels(name).inc()
            logger.error("service %r %s; starting it again in %.0f s", name, why, delay)
            if self.stopping.wait(delay):
                return

    def join(self, timeout: float) -> bool:
        """Wait for every service to stop; False if some did not within ``timeout``."""
        done = gevent.joinall(list(self.greenlets.values()), timeout=timeout)
        late = [n for n, g in self.greenlets.items() if g not in done]
        if late:
            logger.error("services still running after %.0f s: %s", timeout, ", ".join(late))
            gevent.killall([self.greenlets[n] for n in late], timeout=5)
        return not late
