"""Run services' ``run`` functions as greenlets, restarting one that crashes.

Every service is given the node's stop event and registry (services/runtime/contract.py)
and returns when the event is set; a return while the node is not stopping, an
exception, or an exit through ``SystemExit`` counts as a crash. Restarts back off
exponentially (1 s doubling to a minute), and a service that ran for a minute
starts over at 1 s. A ``SystemExit`` with a message (a port in use, say) is logged
as that one line, without a traceback. Options were checked before anything
started (services/node/command.py), so no restart is refused for them.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import prometheus_client

from services.runtime import backoff
from services.runtime.metrics import MetricSet, counter

logger = logging.getLogger(__name__)


class NodeMetrics(MetricSet):
    restarts = counter(
        "fastseg_node_service_restarts_total",
        "Services of this node restarted after a crash",
        ("service",),
    )


BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
STEADY = 60.0  # seconds of running that count as healthy again

Run = Callable[[Any, gevent.event.Event, prometheus_client.CollectorRegistry], int]


class Supervisor:
    def __init__(
        self, stopping: gevent.event.Event, registry: prometheus_client.CollectorRegistry
    ) -> None:
        self.stopping = stopping
        self.registry = registry
        self.metrics = NodeMetrics.of(registry)
        self.greenlets: dict[str, gevent.Greenlet] = {}

    def start(self, name: str, run: Run, options: Any) -> None:
        self.greenlets[name] = gevent.spawn(self._run, name, run, options)

    def _run(self, name: str, run: Run, options: Any) -> None:
        restarts = backoff.Backoff(BACKOFF_START, BACKOFF_MAX, backoff.no_jitter)
        while not self.stopping.is_set():
            began = time.monotonic()
            try:
                code = run(options, self.stopping, self.registry)
                why = f"exited with {code!r}"
            except SystemExit as exc:  # a port in use, and friends
                why = (
                    f"exited: {exc.code}"
                    if isinstance(exc.code, str)
                    else f"exited with {exc.code!r}"
                )
            except Exception:
                logger.exception("service %r crashed", name)
                why = "crashed"
            if self.stopping.is_set():
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
