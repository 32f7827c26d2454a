"""Every metric follows one scheme and is registered one way (a set per injected registry)."""

import re

import prometheus_client
import pytest

import profiling
from services.runtime.metrics import MetricSet
from tests.metric_sets import every_metric_set

SETS = every_metric_set()
SERVICES = (
    "backfiller|chat_archiver|cutter|downloader|janitor|node|notify|restreamer|sheetsync|library"
    "|process"
)
SCHEME = re.compile(rf"^fastseg_({SERVICES})_[a-z0-9_]+$")


def names(registry) -> set[str]:
    return {family.name for family in registry.collect()}


@pytest.mark.parametrize("metric_set", SETS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_set_is_registered_once_per_registry(metric_set):
    registry = prometheus_client.CollectorRegistry()
    first = metric_set.of(registry)
    assert metric_set.of(registry) is first  # a restarted service finds it: no duplicates
    other = prometheus_client.CollectorRegistry()
    assert metric_set.of(other) is not first
    assert names(registry) == names(other)
    assert issubclass(metric_set, MetricSet)


@pytest.mark.parametrize("metric_set", SETS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_set_is_its_table(metric_set):
    """What a set registers is exactly its table, each row named by the scheme."""
    table = metric_set.table()
    assert table, f"{metric_set.__name__} declares no metric"
    for metric in table:
        assert SCHEME.match(metric.name), metric.name
        assert metric.name.endswith("_total") == (metric.kind == "counter"), metric.name
    registry = prometheus_client.CollectorRegistry()
    built = metric_set.of(registry)
    exposed = {
        family.name + "_total" if family.type == "counter" else family.name
        for family in registry.collect()
    }
    assert exposed == {metric.name for metric in table}
    for metric in table:  # the attribute is the prometheus object of that row
        assert type(getattr(built, metric.attr)).__name__.lower() == metric.kind


def test_every_metric_name_follows_the_scheme():
    registry = prometheus_client.CollectorRegistry()
    for metric_set in SETS:
        metric_set.of(registry)
    profiling.install_log_counter(registry=registry)
    sampler = profiling.StackSampler(0.01, registry=registry)

    @profiling.timed("fastseg_library_example", registry=registry)
    def example():
        return 1

    example()
    found = names(registry)
    assert len(found) > 25
    bad = sorted(name for name in found if not SCHEME.match(name))
    assert not bad, f"names outside fastseg_<service>_<what>: {bad}"
    del sampler


def test_the_selection_metric_of_the_library_follows_it_too():
    import fastseg  # noqa: PLC0415

    assert fastseg.get_best_segments.__wrapped__  # timed
    assert any(
        name.startswith("fastseg_library_get_best_segments_")
        for name in names(prometheus_client.REGISTRY)
    )
