"""The one backoff: exponential steps, the cap, and each jitter's bounds."""

import random

import pytest

from services.runtime import backoff
from services.runtime.backoff import (
    Backoff,
    delay,
    equal_jitter,
    full_jitter,
    no_jitter,
    spread_jitter,
)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0.5), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (10_000, 8.0)],
)
def test_steps_double_from_base_up_to_the_cap(failures, expected):
    assert delay(failures, 0.5, 8.0, no_jitter) == expected


@pytest.mark.parametrize(
    ("jitter", "low", "high"),
    [(full_jitter, 0.0, 1.0), (equal_jitter, 0.5, 1.0), (spread_jitter, 0.5, 1.5)],
)
@pytest.mark.parametrize("failures", [1, 3, 50])
def test_jitter_stays_within_its_bounds_and_varies(jitter, low, high, failures):
    rng = random.Random(7)
    step = min(4.0, 1.0 * 2 ** (failures - 1))
    delays = [delay(failures, 1.0, 4.0, jitter, rng) for _ in range(300)]
    assert all(low * step <= d <= high * step for d in delays)
    assert len(set(delays)) > 250


def test_default_jitter_is_full_and_uses_the_given_rng():
    assert delay(3, 1.0, 10.0, rng=random.Random(1)) == delay(
        3, 1.0, 10.0, full_jitter, random.Random(1)
    )


def test_backoff_counts_failures_and_resets():
    b = Backoff(1.0, 5.0, no_jitter)
    assert [b.failed() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert b.failures == 5
    b.reset()
    assert b.failures == 0
    assert b.failed() == 1.0
    assert "failures=1" in repr(b)


def test_backoff_defaults_to_full_jitter():
    b = Backoff(2.0, 100.0, rng=random.Random(3))
    delays = [b.failed() for _ in range(4)]
    assert all(0 <= d <= 2.0 * 2**i for i, d in enumerate(delays))
    assert backoff.Backoff(1, 1).jitter is full_jitter
