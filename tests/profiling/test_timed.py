"""profiling.timed: what it records, and that it never changes what the call does."""

import gc
import time
import traceback
import weakref

import prometheus_client
import pytest

from profiling import timed, timing


def burn_cpu(seconds_of_cpu=0.02):
    """Spin until this thread has used some CPU time (so cputime has something to show)."""
    start = time.thread_time()
    while time.thread_time() - start < seconds_of_cpu:
        pass


def value(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def families(registry):
    return {family.name for family in registry.collect()}


def test_records_latency_and_cputime(registry):
    @timed("work", registry=registry)
    def work(x):
        burn_cpu()
        return x * 2

    assert work(21) == 42
    assert value(registry, "work_latency_count", error="") == 1
    assert value(registry, "work_cputime_count", error="", type="user") == 1
    assert value(registry, "work_cputime_count", error="", type="system") == 1
    user = value(registry, "work_cputime_sum", error="", type="user")
    system = value(registry, "work_cputime_sum", error="", type="system")
    latency = value(registry, "work_latency_sum", error="")
    assert user + system > 0
    # Wall time covers the CPU time this thread spent inside the call.
    assert latency >= (user + system) * 0.5
    assert work(1) == 2
    assert value(registry, "work_latency_count", error="") == 2


def test_name_defaults_to_the_function_and_bare_decorator_works(registry):
    @timed(registry=registry)
    def fetch_hour():
        return "ok"

    assert fetch_hour() == "ok"
    assert fetch_hour.__name__ == "fetch_hour"
    assert value(registry, "fetch_hour_latency_count", error="") == 1

    @timed
    def profiling_test_bare_decorator():
        """Docstring kept."""
        return 5

    assert profiling_test_bare_decorator() == 5
    assert profiling_test_bare_decorator.__doc__ == "Docstring kept."
    sample = prometheus_client.REGISTRY.get_sample_value(
        "profiling_test_bare_decorator_latency_count", {"error": ""}
    )
    assert sample >= 1


def test_constant_and_callable_labels(registry):
    seen = []

    def holes(result, path, start, end=None):
        seen.append((result, path, start, end))
        return "yes" if None in result else "no"

    @timed("select", registry=registry, path="hours", holes=holes)
    def select(path, start, end=None):
        return [1, None, 2] if start else [1]

    select("/a", 1, end=3)
    select("/a", 0)
    assert seen == [([1, None, 2], "/a", 1, 3), ([1], "/a", 0, None)]
    assert value(registry, "select_latency_count", error="", path="hours", holes="yes") == 1
    assert value(registry, "select_latency_count", error="", path="hours", holes="no") == 1


def test_a_raising_label_callable_counts_as_none_and_never_breaks_the_call(registry):
    def broken(result, *args, **kwargs):
        raise RuntimeError("label bug")

    @timed("fragile", registry=registry, kind=broken)
    def fragile():
        return "result"

    assert fragile() == "result"
    assert value(registry, "fragile_latency_count", error="", kind="None") == 1


def test_error_label_and_exception_reraised_with_its_traceback(registry):
    def where_it_broke(key):
        return {}[key]

    @timed("lookup", registry=registry)
    def lookup(key):
        return where_it_broke(key)

    with pytest.raises(KeyError, match="missing") as excinfo:
        lookup("missing")
    frames = [frame.name for frame in traceback.extract_tb(excinfo.value.__traceback__)]
    assert frames[-2:] == ["lookup", "where_it_broke"]
    assert value(registry, "lookup_latency_count", error="KeyError") == 1
    assert value(registry, "lookup_cputime_count", error="KeyError", type="user") == 1
    assert value(registry, "lookup_latency_count", error="") is None


def test_label_callables_see_none_as_the_result_of_a_call_that_raised(registry):
    results = []

    def record(result, *args):
        results.append(result)
        return "seen"

    @timed("failing", registry=registry, what=record)
    def failing():
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        failing()
    assert results == [None]
    assert value(registry, "failing_latency_count", error="ValueError", what="seen") == 1


def test_normalize_records_per_unit_of_work(registry):
    @timed("cut", registry=registry, normalize=lambda result, segments: len(segments))
    def cut(segments):
        burn_cpu()
        return "done"

    cut(["a", "b", "c", "d"])
    latency = value(registry, "cut_latency_sum", error="")
    per_unit = value(registry, "cut_latency_normalized_sum", error="")
    assert value(registry, "cut_latency_normalized_count", error="") == 1
    assert per_unit == pytest.approx(latency / 4)
    user = value(registry, "cut_cputime_sum", error="", type="user")
    assert value(registry, "cut_cputime_normalized_sum", error="", type="user") == pytest.approx(
        user / 4
    )


@pytest.mark.parametrize(
    "units", [0, None, "many", -3], ids=["zero", "none", "not-a-number", "negative"]
)
def test_normalize_skips_calls_without_a_positive_unit_count(registry, units):
    @timed("skip", registry=registry, normalize=lambda result: units)
    def skip():
        return "kept"

    assert skip() == "kept"
    assert value(registry, "skip_latency_count", error="") == 1
    assert "skip_latency_normalized" in families(registry)
    assert value(registry, "skip_latency_normalized_count", error="") is None


def test_a_raising_normalize_never_breaks_the_call(registry):
    def broken(result):
        raise ZeroDivisionError("normalize bug")

    @timed("norm", registry=registry, normalize=broken)
    def norm():
        return 7

    assert norm() == 7
    assert value(registry, "norm_latency_count", error="") == 1
    assert "norm_latency_normalized" in families(registry)
    assert value(registry, "norm_latency_normalized_count", error="") is None


def test_no_normalized_observation_when_the_call_raised(registry):
    @timed("bad", registry=registry, normalize=lambda result: 10)
    def bad():
        raise OSError("disk")

    with pytest.raises(OSError, match="disk"):
        bad()
    assert value(registry, "bad_latency_count", error="OSError") == 1
    assert value(registry, "bad_latency_normalized_count", error="OSError") is None


def test_custom_buckets(registry):
    @timed("b", registry=registry, buckets=(0.5, 1.0), normalized_buckets=(0.1,), normalize=len)
    def b():
        return "xy"

    b()
    assert value(registry, "b_latency_bucket", error="", le="0.5") == 1
    assert value(registry, "b_latency_bucket", error="", le="1.0") == 1
    assert value(registry, "b_latency_normalized_bucket", error="", le="0.1") == 1
    assert value(registry, "b_latency_bucket", error="", le="0.25") is None


def test_two_uses_of_one_name_with_the_same_labels_share_metrics(registry):
    @timed("shared", registry=registry, node="a")
    def one():
        return 1

    @timed("shared", registry=registry, node=lambda result: "b")
    def two():
        return 2

    one()
    two()
    two()
    assert value(registry, "shared_latency_count", error="", node="a") == 1
    assert value(registry, "shared_latency_count", error="", node="b") == 2


def test_a_second_use_may_add_normalize(registry):
    @timed("grow", registry=registry)
    def plain():
        return [1]

    @timed("grow", registry=registry, normalize=lambda result: len(result))
    def normalized():
        return [1, 2]

    plain()
    normalized()
    assert value(registry, "grow_latency_count", error="") == 2
    assert value(registry, "grow_latency_normalized_count", error="") == 1


def test_different_labels_for_one_name_fail_at_decoration(registry):
    @timed("clash", registry=registry, node="a")
    def one():
        pass

    with pytest.raises(ValueError, match=r"'clash'\) is already used with labels \['node'\]"):

        @timed("clash", registry=registry, quality="source")
        def two():
            pass


def test_different_buckets_for_one_name_fail_at_decoration(registry):
    timed("bk", registry=registry, buckets=(1.0,))(lambda: None)
    with pytest.raises(ValueError, match=r"already records buckets \(1\.0,\)"):
        timed("bk", registry=registry, buckets=(2.0,))(lambda: None)
    timed("nb", registry=registry, normalize=len, normalized_buckets=(1.0,))(lambda: "")
    with pytest.raises(ValueError, match="already records normalized buckets"):
        timed("nb", registry=registry, normalize=len, normalized_buckets=(3.0,))(lambda: "")


def test_the_same_name_in_another_registry_is_independent(registry):
    other = prometheus_client.CollectorRegistry()
    timed("iso", registry=registry, a="1")(lambda: None)()
    timed("iso", registry=other, b="2")(lambda: None)()
    assert value(registry, "iso_latency_count", error="", a="1") == 1
    assert value(other, "iso_latency_count", error="", b="2") == 1


@pytest.mark.parametrize("label", ["error", "type"])
def test_reserved_label_names_are_refused(registry, label):
    with pytest.raises(ValueError, match=f"label {label!r} is reserved"):
        timed("r", registry=registry, **{label: "x"})


@pytest.mark.parametrize("name", ["", 5])
def test_bad_names_are_refused(registry, name):
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        timed(name, registry=registry)


def test_a_non_callable_normalize_is_refused(registry):
    with pytest.raises(ValueError, match="normalize must be callable, got 4"):
        timed("n", registry=registry, normalize=4)


def test_a_name_taken_by_another_metric_is_a_clear_error(registry):
    prometheus_client.Counter("taken_latency", "someone else's", registry=registry)
    with pytest.raises(ValueError, match=r"timed\('taken'\) cannot register 'taken_latency'"):
        timed("taken", registry=registry)(lambda: None)


def test_a_label_value_that_cannot_be_recorded_never_breaks_the_call(registry, caplog):
    class Unprintable:
        def __str__(self):
            raise TypeError("no text for you")

    @timed("unprintable", registry=registry, what=lambda result: Unprintable())
    def unprintable():
        return "fine"

    assert unprintable() == "fine"
    assert "timed('unprintable'): could not record a call" in caplog.text


def test_registry_none_records_into_unregistered_metrics():
    @timed("unregistered", registry=None)
    def unregistered():
        return 3

    assert unregistered() == 3
    # Nothing reached the global registry.
    sample = prometheus_client.REGISTRY.get_sample_value(
        "unregistered_latency_count", {"error": ""}
    )
    assert sample is None


def test_a_dropped_registry_takes_its_timed_metrics_along():
    registry = prometheus_client.CollectorRegistry()
    timed("dropped", registry=registry)(lambda: None)()
    assert registry in timing._metrics_by_registry
    ref = weakref.ref(registry)
    del registry
    gc.collect()
    assert ref() is None
