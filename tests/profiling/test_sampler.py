"""The stack sampler: what it records, how it is switched on and off, and misuse errors."""

import argparse
import math
import os
import signal
import subprocess
import sys
import threading
import time

import prometheus_client
import pytest

from profiling import StackSampler, add_arguments, sampler_enabled, start_from_args
from profiling.collect import parse_metrics

pytestmark = pytest.mark.usefixtures("no_sampler_left_running")

MODULE = __name__
CPU_GUARD = 60.0  # CPU seconds after which a test that never sees its sample gives up


def spin_until(sampler, leaf, predicate=None):
    """Burn CPU until some sampled stack ends with ``leaf`` (and passes ``predicate``)."""
    start = time.process_time()
    while time.process_time() - start < CPU_GUARD:
        for _ in range(10_000):
            pass
        stacks = [
            s for s in sampler.counts() if s.endswith(leaf) and (predicate is None or predicate(s))
        ]
        if stacks:
            return stacks
    raise AssertionError(f"no sample ending in {leaf!r} after {CPU_GUARD} s of CPU")


def inner(sampler):
    """Burns CPU in its own frame until a sample shows it as the leaf under outer()."""
    start = time.process_time()
    while time.process_time() - start < CPU_GUARD:
        for _ in range(10_000):
            pass
        stacks = [s for s in sampler.counts() if s.endswith(f"outer({MODULE});inner({MODULE})")]
        if stacks:
            return stacks
    raise AssertionError(f"inner() was never sampled in {CPU_GUARD} s of CPU")


def outer(sampler):
    return inner(sampler)


def test_samples_are_stacks_written_root_first(registry):
    sampler = StackSampler(0.001, registry=registry)
    sampler.start()
    try:
        stacks = outer(sampler)
    finally:
        sampler.stop()
    frames = stacks[0].split(";")
    assert frames[-3:] == [
        f"test_samples_are_stacks_written_root_first({MODULE})",
        f"outer({MODULE})",
        f"inner({MODULE})",
    ]
    assert all(f.endswith(")") and "(" in f for f in frames)
    # The script that started pytest is the root: it comes first.
    assert frames[0] in ("<module>(__main__)", "_run_module_as_main(runpy)"), frames[0]


def test_each_sample_adds_one_interval(registry):
    sampler = StackSampler(0.002, registry=registry)
    sampler.start()
    try:
        spin_until(sampler, f"spin_until({MODULE})")
    finally:
        sampler.stop()
    for seconds in sampler.counts().values():
        samples = seconds / 0.002
        assert samples >= 1
        assert math.isclose(samples, round(samples), abs_tol=1e-6)


def test_counts_are_served_as_a_counter_and_survive_stop_until_reset(registry):
    sampler = StackSampler(0.001, registry=registry)
    assert not sampler.running
    sampler.start()
    assert sampler.running
    try:
        spin_until(sampler, f"spin_until({MODULE})")
    finally:
        sampler.stop()
    assert not sampler.running
    counts = sampler.counts()
    text = prometheus_client.generate_latest(registry).decode()
    assert "# TYPE fastseg_process_stack_seconds_total counter" in text
    assert parse_metrics(text) == pytest.approx(counts)
    sampler.reset()
    assert sampler.counts() == {}
    text = prometheus_client.generate_latest(registry).decode()
    assert "fastseg_process_stack_seconds_total{" not in text


def test_stop_hands_sigvtalrm_back_and_the_sampler_can_start_again(registry):
    sampler = StackSampler(0.001, registry=registry)
    sampler.start()
    assert signal.getsignal(signal.SIGVTALRM) == sampler._on_signal
    sampler.stop()
    assert signal.getsignal(signal.SIGVTALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_VIRTUAL) == (0.0, 0.0)
    sampler.start()
    try:
        spin_until(sampler, f"spin_until({MODULE})")
    finally:
        sampler.stop()


def test_reset_while_running_starts_counting_afresh(registry):
    sampler = StackSampler(0.001, registry=registry)
    sampler.start()
    try:
        spin_until(sampler, f"spin_until({MODULE})")
        sampler.reset()
        assert sampler.counts() == {}
        spin_until(sampler, f"spin_until({MODULE})")
    finally:
        sampler.stop()
    assert sampler.counts()


def run_in_thread(fn):
    caught = []

    def target():
        try:
            fn()
        except Exception as e:
            caught.append(e)

    thread = threading.Thread(target=target, name="not-main")
    thread.start()
    thread.join()
    return caught


@pytest.mark.parametrize("method", ["start", "stop", "reset"])
def test_other_threads_get_a_clear_error(registry, method):
    sampler = StackSampler(0.01, registry=registry)
    caught = run_in_thread(getattr(sampler, method))
    assert len(caught) == 1
    assert isinstance(caught[0], RuntimeError)
    assert f"StackSampler.{method}() called from thread 'not-main'" in str(caught[0])
    assert "main thread" in str(caught[0])
    assert not sampler.running


def test_starting_twice_is_an_error(registry):
    sampler = StackSampler(0.01, registry=registry)
    sampler.start()
    try:
        with pytest.raises(RuntimeError, match="already running; call stop"):
            sampler.start()
    finally:
        sampler.stop()


def test_stopping_a_stopped_sampler_is_an_error(registry):
    with pytest.raises(RuntimeError, match="not running; call start"):
        StackSampler(0.01, registry=registry).stop()


def test_only_one_sampler_can_run(registry):
    first = StackSampler(0.01, registry=registry)
    second = StackSampler(0.01, registry=None)
    first.start()
    try:
        with pytest.raises(RuntimeError, match="another stack sampler .* is running"):
            second.start()
    finally:
        first.stop()


def test_a_foreign_sigvtalrm_handler_is_not_replaced(registry):
    def foreign(signum, frame):
        pass

    signal.signal(signal.SIGVTALRM, foreign)
    try:
        with pytest.raises(RuntimeError, match="SIGVTALRM already has a handler"):
            StackSampler(0.01, registry=registry).start()
        assert signal.getsignal(signal.SIGVTALRM) is foreign
    finally:
        signal.signal(signal.SIGVTALRM, signal.SIG_DFL)


@pytest.mark.parametrize("interval", [0, -0.01, math.nan, math.inf, "0.01", True, None])
def test_bad_intervals_are_refused(registry, interval):
    with pytest.raises(ValueError, match="interval must be a positive number of seconds, got"):
        StackSampler(interval, registry=registry)


def test_one_registry_holds_one_sampler(registry):
    StackSampler(0.01, registry=registry)
    with pytest.raises(ValueError, match="fastseg_process_stack_seconds"):
        StackSampler(0.01, registry=registry)


# Switching it on from a service's arguments.


def parse(argv):
    parser = argparse.ArgumentParser(prog="svc")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_arguments_default_to_off():
    args = parse([])
    assert not sampler_enabled(args, environ={})
    assert start_from_args(args, registry=prometheus_client.CollectorRegistry(), environ={}) is None


def test_the_flag_starts_a_sampler(registry):
    args = parse(["--stack-sampler", "--stack-sampler-interval", "0.002"])
    sampler = start_from_args(args, registry=registry, environ={})
    try:
        assert sampler.running
        assert sampler.interval == 0.002
    finally:
        sampler.stop()


def test_the_environment_starts_a_sampler(registry):
    sampler = start_from_args(parse([]), registry=registry, environ={"FASTSEG_STACK_SAMPLER": "1"})
    try:
        assert sampler.running
        assert sampler.interval == 0.005
    finally:
        sampler.stop()
    assert not sampler_enabled(parse([]), environ={"FASTSEG_STACK_SAMPLER": "0"})


def test_a_bad_environment_value_is_refused():
    with pytest.raises(ValueError, match="FASTSEG_STACK_SAMPLER must be 1 .* got 'yes'"):
        sampler_enabled(parse([]), environ={"FASTSEG_STACK_SAMPLER": "yes"})


@pytest.mark.parametrize("bad", ["0", "-1", "fast", "nan"])
def test_a_bad_interval_argument_is_refused(bad, capsys):
    with pytest.raises(SystemExit):
        parse(["--stack-sampler-interval", bad])
    assert f"interval must be a positive number of seconds, got {bad!r}" in capsys.readouterr().err


def test_a_process_that_exits_with_the_sampler_on_exits_cleanly():
    # Regression: the armed timer outlived Python's signal handling at exit,
    # and SIGVTALRM's default action killed the process (status -26).
    code = (
        "import prometheus_client, profiling\n"
        "profiling.StackSampler(0.0005, registry=None).start()\n"
        "sum(i * i for i in range(3_000_000))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
