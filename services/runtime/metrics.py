"""How every service declares its Prometheus metrics: a table, built once per injected registry.

A service's metrics are a :class:`MetricSet` subclass whose class body is a table,
one :func:`counter`, :func:`gauge` or :func:`histogram` row per metric (its name,
help, labels, buckets)::

    class JanitorMetrics(MetricSet):
        sweeps = counter("fastseg_janitor_sweeps_total", "Sweeps of the archive done")

``of(registry)`` builds the prometheus objects of that table once per registry and
returns the same set afterwards, so a service that its node starts again in the same
process finds its metrics instead of registering the names twice, and a test can hand
each run a fresh registry; ``metrics.sweeps`` is then the ``Counter``. ``table()`` is
the declarations themselves, which tests compare with docs/DESIGN.md#metrics. Names
follow ``fastseg_<service>_<what>[_unit][_total]``.
"""

import dataclasses
import weakref
from typing import Any, Generic, Self, TypeVar, overload

import prometheus_client

__all__ = ["Metric", "MetricSet", "counter", "gauge", "histogram"]

M = TypeVar("M", prometheus_client.Counter, prometheus_client.Gauge, prometheus_client.Histogram)

_KINDS: dict[str, Any] = {
    "counter": prometheus_client.Counter,
    "gauge": prometheus_client.Gauge,
    "histogram": prometheus_client.Histogram,
}


@dataclasses.dataclass(frozen=True)
class Metric(Generic[M]):
    """One row of a set's table; on an instance of the set, the prometheus object it built."""

    name: str  # as exposed: a counter's ends in _total
    kind: str  # counter, gauge or histogram
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = None  # a histogram's; None: prometheus's default
    attr: str = ""  # the attribute it is declared as (set by the class)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(
                f"metric {self.name!r}: kind {self.kind!r} is not one of {set(_KINDS)}"
            )
        if isinstance(self.labels, str):  # ("peer") where ("peer",) was meant
            raise TypeError(f"metric {self.name!r}: labels {self.labels!r} must be a tuple")

    def __set_name__(self, owner: type, attr: str) -> None:
        object.__setattr__(self, "attr", attr)

    def build(self, registry: prometheus_client.CollectorRegistry) -> M:
        extra = {} if self.buckets is None else {"buckets": self.buckets}
        built: M = _KINDS[self.kind](self.name, self.help, self.labels, registry=registry, **extra)
        return built

    @overload
    def __get__(self, instance: None, owner: type) -> "Metric[M]": ...
    @overload
    def __get__(self, instance: object, owner: type) -> M: ...
    def __get__(self, instance: object | None, owner: type) -> "Metric[M] | M":
        if instance is None:
            return self
        built: M = instance.__dict__[self.attr]  # set by MetricSet.__init__
        return built


def counter(
    name: str, help_: str, labels: tuple[str, ...] = ()
) -> Metric[prometheus_client.Counter]:
    return Metric(name, "counter", help_, labels)


def gauge(name: str, help_: str, labels: tuple[str, ...] = ()) -> Metric[prometheus_client.Gauge]:
    return Metric(name, "gauge", help_, labels)


def histogram(
    name: str, help_: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] | None = None
) -> Metric[prometheus_client.Histogram]:
    return Metric(name, "histogram", help_, labels, buckets)


class MetricSet:
    """Base class; see the module docstring."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        self.registry = registry
        for metric in self.table():
            self.__dict__[metric.attr] = metric.build(registry)

    @classmethod
    def table(cls) -> list[Metric[Any]]:
        """The metrics this set declares, in the order declared."""
        return [
            value
            for klass in reversed(cls.__mro__)
            for value in vars(klass).values()
            if isinstance(value, Metric)
        ]

    @classmethod
    def of(cls, registry: prometheus_client.CollectorRegistry = prometheus_client.REGISTRY) -> Self:
        """The set registered in ``registry``, created on first use."""
        built = _built.setdefault(registry, {})
        metrics: Self | None = built.get(cls)
        if metrics is None:
            metrics = built[cls] = cls(registry)
        return metrics


# registry -> {MetricSet subclass: instance}; weak, so a throwaway registry takes its sets along.
_built: "weakref.WeakKeyDictionary[prometheus_client.CollectorRegistry, dict[type, Any]]" = (
    weakref.WeakKeyDictionary()
)
