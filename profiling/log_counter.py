"""A logging handler that counts log records by level, module and function.

The counter is ``fastseg_process_log_records_total{level,module,function}``.
A sudden run of warnings shows up on a dashboard long before anyone reads the
logs. ``module`` is the logger's name, which by this project's convention
(``logging.getLogger(__name__)``) is the dotted name of the module that logged.
"""

import logging
import weakref

import prometheus_client
from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

METRIC_NAME = "fastseg_process_log_records"


class LogCounter(logging.Handler):
    """Counts every record it is handed; formats and writes nothing."""

    def __init__(
        self,
        registry: CollectorRegistry | None = prometheus_client.REGISTRY,
        level: int | str = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        self.counter = prometheus_client.Counter(
            METRIC_NAME,
            "Log records, by level, module (logger name) and function",
            ["level", "module", "function"],
            registry=registry,
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.counter.labels(record.levelname, record.name, record.funcName).inc()
        except Exception:
            self.handleError(record)


# registry -> {logger: handler}, so installing twice counts once. Weak on the
# registry: a new registry must never inherit a dead one's handler.
_installed: weakref.WeakKeyDictionary[CollectorRegistry, dict[logging.Logger, LogCounter]] = (
    weakref.WeakKeyDictionary()
)


def install_log_counter(
    target: logging.Logger | None = None, registry: CollectorRegistry = prometheus_client.REGISTRY
) -> LogCounter:
    """Count the records reaching ``target`` (default: the root logger); idempotent.

    Returns the handler, so a caller can remove it again with ``removeHandler``.
    """
    target = logging.getLogger() if target is None else target
    if not isinstance(target, logging.Logger):
        raise TypeError(f"install_log_counter() needs a logging.Logger, got {target!r}")
    by_logger = _installed.setdefault(registry, {})
    handler = by_logger.get(target)
    if handler is not None and handler in target.handlers:
        return handler
    if handler is None:
        handler = by_logger[target] = LogCounter(registry)
    target.addHandler(handler)
    return handler
