"""``@timed``: Prometheus histograms of how long a function takes, in wall and CPU time.

``timed("name", kind="x")`` records, per call:

* ``name_latency{kind,error}``: wall seconds;
* ``name_cputime{kind,error,type}``: CPU seconds, ``type`` is ``user`` or ``system``;
* with ``normalize``, ``name_latency_normalized`` and ``name_cputime_normalized``:
  the same per unit of work (``normalize(result, *args, **kwargs)`` units; 0 or
  None skips the observation).

``error`` is the raised exception's type name, or ``''``. A label value may be a
callable of ``(result, *args, **kwargs)`` (``result`` is None when the call
raised). Measuring never changes what the call does: a label or normalize callable
that raises counts as None, and the function's own exception propagates untouched.

CPU time is the calling thread's (``RUSAGE_THREAD``). Under gevent a function that
yields is charged for the other greenlets that ran on its thread meanwhile.
"""

import functools
import logging
import resource
import time
import weakref
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar, overload

import prometheus_client
from prometheus_client import CollectorRegistry, Histogram

logger = logging.getLogger(__name__)

DEFAULT_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip
RESERVED_LABELS = ("error", "type")

_RUSAGE: int = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Units of work done by a call, from ``(result, *args, **kwargs)``; 0 or None: not counted.
Normalize = Callable[..., float | None]


class _Metrics:
    """The histograms one timed name records into, shared by every use of that name."""

    def __init__(
        self,
        name: str,
        labelnames: tuple[str, ...],
        buckets: Sequence[float],
        registry: CollectorRegistry | None,
    ) -> None:
        self.name = name
        self.labelnames = labelnames
        self.buckets = tuple(buckets)
        # Weak, or the registry (the weak key this lives under) could never go.
        self.registry: Callable[[], CollectorRegistry | None] = (
            weakref.ref(registry) if registry is not None else lambda: None
        )
        self.latency = self._histogram("latency", "Wall", labelnames + ("error",), self.buckets)
        self.cputime = self._histogram(
            "cputime", "CPU", labelnames + ("error", "type"), self.buckets
        )
        self.normalized_buckets: tuple[float, ...] | None = None
        # (latency, cputime) per unit of work, once a use of this name normalizes.
        self.normalized: tuple[Histogram, Histogram] | None = None

    def want_normalized(self, buckets: Sequence[float]) -> None:
        """Create the per-unit histograms on first use; later uses must agree on buckets."""
        buckets = tuple(buckets)
        if self.normalized_buckets is None:
            self.normalized = (
                self._histogram(
                    "latency_normalized",
                    "Wall time per unit of work, in",
                    self.labelnames + ("error",),
                    buckets,
                ),
                self._histogram(
                    "cputime_normalized",
                    "CPU time per unit of work, in",
                    self.labelnames + ("error", "type"),
                    buckets,
                ),
            )
            self.normalized_buckets = buckets
        elif buckets != self.normalized_buckets:
            raise ValueError(
                f"timed({self.name!r}) already records normalized buckets "
                f"{self.normalized_buckets!r}, got {buckets!r}: "
                "use the same buckets or another name"
            )

    def _histogram(
        self, suffix: str, what: str, labelnames: tuple[str, ...], buckets: Sequence[float]
    ) -> Histogram:
        name = f"{self.name}_{suffix}"
        try:
            return prometheus_client.Histogram(
                name,
                f"{what} seconds spent in {self.name}",
                labelnames,
                buckets=buckets,
                registry=self.registry(),
            )
        except ValueError as e:
            raise ValueError(
                f"timed({self.name!r}) cannot register {name!r}: {e}; pick another name"
            ) from e


# registry -> {name: _Metrics}; weak so a test's throwaway registry takes its entries along.
_metrics_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, _Metrics]] = (
    weakref.WeakKeyDictionary()
)


def _metrics_for(
    name: str,
    labelnames: tuple[str, ...],
    buckets: Sequence[float],
    registry: CollectorRegistry | None,
) -> _Metrics:
    if registry is None:  # unregistered metrics, as prometheus_client allows: nothing to share
        return _Metrics(name, labelnames, buckets, None)
    by_name = _metrics_by_registry.setdefault(registry, {})
    metrics = by_name.get(name)
    if metrics is None:
        metrics = by_name[name] = _Metrics(name, labelnames, buckets, registry)
        return metrics
    if metrics.labelnames != labelnames:
        raise ValueError(
            f"timed({name!r}) is already used with labels {list(metrics.labelnames)!r}, "
            f"not {list(labelnames)!r}: every use of one name needs the same label names"
        )
    if metrics.buckets != tuple(buckets):
        raise ValueError(
            f"timed({name!r}) already records buckets {metrics.buckets!r}, "
            f"got {tuple(buckets)!r}: use the same buckets or another name"
        )
    return metrics


def _safely(
    what: str,
    fn: Callable[..., T],
    result: object,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> T | None:
    """fn(result, *args, **kwargs), or None if it raises: metrics must not break the call."""
    try:
        return fn(result, *args, **kwargs)
    except Exception:
        logger.debug("timed: %s %r raised; counting it as None", what, fn, exc_info=True)
        return None


@overload
def timed(name: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def timed(
    name: str | None = None,
    buckets: Sequence[float] = DEFAULT_BUCKETS,
    normalized_buckets: Sequence[float] | None = None,
    normalize: Normalize | None = None,
    registry: CollectorRegistry | None = prometheus_client.REGISTRY,
    **labels: object,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def timed(
    name: str | None | Callable[P, R] = None,
    buckets: Sequence[float] = DEFAULT_BUCKETS,
    normalized_buckets: Sequence[float] | None = None,
    normalize: Normalize | None = None,
    registry: CollectorRegistry | None = prometheus_client.REGISTRY,
    **labels: object,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function to record its wall and CPU time (see the module docstring).

    ``name`` defaults to the function's name; ``@timed`` works without parentheses.
    ``normalized_buckets`` defaults to ``buckets``. Raises ValueError at decoration
    time for a reserved label name, or when the name is already timed with other
    label names or buckets.
    """
    if callable(name):  # bare @timed
        return timed()(name)
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"timed() name must be a non-empty string, got {name!r}")
    for reserved in RESERVED_LABELS:
        if reserved in labels:
            raise ValueError(
                f"timed() label {reserved!r} is reserved (it is set for you); rename it"
            )
    if normalize is not None and not callable(normalize):
        raise ValueError(f"timed() normalize must be callable, got {normalize!r}")
    labelnames = tuple(sorted(labels))

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        metrics = _metrics_for(name or fn.__name__, labelnames, buckets, registry)
        if normalize is not None:
            metrics.want_normalized(normalized_buckets or buckets)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start_wall = time.monotonic()
            start_cpu = resource.getrusage(_RUSAGE)
            error = ""
            result: R | None = None
            try:
                result = fn(*args, **kwargs)
                return result
            except BaseException as e:
                error = type(e).__name__
                raise
            finally:
                latency = time.monotonic() - start_wall
                end_cpu = resource.getrusage(_RUSAGE)
                user = end_cpu.ru_utime - start_cpu.ru_utime
                system = end_cpu.ru_stime - start_cpu.ru_stime
                try:
                    _record(metrics, error, result, args, kwargs, latency, user, system)
                except Exception:  # e.g. a label value whose str() raises
                    logger.warning(
                        "timed(%r): could not record a call", metrics.name, exc_info=True
                    )

        return wrapper

    def _record(
        metrics: _Metrics,
        error: str,
        result: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
        latency: float,
        user: float,
        system: float,
    ) -> None:
        values = [
            _safely(f"label {k}", v, result, args, kwargs) if callable(v) else v
            for k, v in sorted(labels.items())
        ]
        metrics.latency.labels(*values, error).observe(latency)
        metrics.cputime.labels(*values, error, "user").observe(user)
        metrics.cputime.labels(*values, error, "system").observe(system)
        if normalize is None or metrics.normalized is None or error:
            return
        units = _safely("normalize", normalize, result, args, kwargs)
        try:
            units = float(units) if units is not None else 0.0
        except (TypeError, ValueError):
            logger.debug("timed: normalize gave %r, not a number; skipping", units)
            return
        if units > 0:
            latency_normalized, cputime_normalized = metrics.normalized
            latency_normalized.labels(*values, error).observe(latency / units)
            cputime_normalized.labels(*values, error, "user").observe(user / units)
            cputime_normalized.labels(*values, error, "system").observe(system / units)

    return decorator
