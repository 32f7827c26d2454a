"""Every MetricSet the services define, found by importing them all: no hand-kept list to drift."""

import importlib
import pkgutil

import services
from services.runtime.metrics import MetricSet

__all__ = ["every_metric_set"]


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def every_metric_set() -> list[type[MetricSet]]:
    """Each MetricSet subclass under services/ (not ``__main__`` modules: they patch gevent)."""
    for info in pkgutil.walk_packages(services.__path__, "services."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    return sorted(_subclasses(MetricSet), key=lambda cls: f"{cls.__module__}.{cls.__name__}")
