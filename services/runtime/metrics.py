"""How every service registers its Prometheus metrics: one object per registry, injected.

A service's metrics are a :class:`MetricSet` subclass whose ``__init__(registry)``
creates them in that registry. ``of(registry)`` builds the set once per registry
and returns the same object afterwards, so a service that its node starts again
in the same process finds its metrics instead of registering the names twice,
and a test can hand each run a fresh registry. Names follow
``fastseg_<service>_<what>[_unit][_total]``.
"""

import weakref

import prometheus_client

__all__ = ["MetricSet"]


class MetricSet:
    """Base class; see the module docstring."""

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        self.registry = registry

    @classmethod
    def of(cls, registry: prometheus_client.CollectorRegistry = prometheus_client.REGISTRY):
        """The set registered in ``registry``, created on first use."""
        built = _built.setdefault(registry, {})
        metrics = built.get(cls)
        if metrics is None:
            metrics = built[cls] = cls(registry)
        return metrics


# registry -> {MetricSet subclass: instance}; weak, so a throwaway registry takes its sets along.
_built: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
