"""How long to wait before trying again: exponential backoff with a cap and jitter.

A delay is computed from the number of failures in a row (1 after the first):
``base`` seconds after the first, doubling per further failure, never above
``cap``; a jitter function then spreads that step so that clients that failed
together do not retry together. Callers keep their own loops; :class:`Backoff`
holds the failure count for loops that would otherwise carry it by hand.
"""

import random
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "Backoff",
    "Jitter",
    "RandomSource",
    "delay",
    "equal_jitter",
    "full_jitter",
    "no_jitter",
    "spread_jitter",
]

#: Doublings beyond this add nothing (any sane cap is reached long before) and
#: would overflow a float.
_MAX_DOUBLINGS = 64


class RandomSource(Protocol):
    """Where a jitter draws from: the ``random`` module, or a seeded ``random.Random``."""

    def uniform(self, a: float, b: float, /) -> float: ...


#: ``jitter(step, rng)``: the delay for a step of ``step`` seconds.
Jitter = Callable[[float, RandomSource], float]


def no_jitter(step: float, rng: RandomSource = random) -> float:
    """Exactly the step: for one client alone, such as a supervisor restarting a service."""
    return step


def full_jitter(step: float, rng: RandomSource = random) -> float:
    """Anywhere in [0, step]: spreads colliding clients most, at the price of some quick retries."""
    return rng.uniform(0, step)


def equal_jitter(step: float, rng: RandomSource = random) -> float:
    """In [step/2, step]: never less than half the step, so a dead server is not hammered."""
    return step / 2 + rng.uniform(0, step / 2)


def spread_jitter(step: float, rng: RandomSource = random) -> float:
    """In [step/2, 3 step/2]: the step on average; may exceed the cap by half of it."""
    return step * rng.uniform(0.5, 1.5)


def delay(
    failures: int, base: float, cap: float, jitter: Jitter = full_jitter, rng: RandomSource = random
) -> float:
    """Seconds to wait after ``failures`` failures in a row (1 for the first).

    The step is ``base * 2 ** (failures - 1)``, at most ``cap``; ``jitter(step, rng)``
    gives the delay. ``failures`` below 1 counts as 1.
    """
    doublings = min(max(0, failures - 1), _MAX_DOUBLINGS)
    return jitter(min(cap, base * 2**doublings), rng)


class Backoff:
    """Failures in a row, and the delay the next one calls for.

    Call :meth:`failed` after each failure (it returns the seconds to wait) and
    :meth:`reset` after a success.
    """

    def __init__(
        self, base: float, cap: float, jitter: Jitter = full_jitter, rng: RandomSource = random
    ) -> None:
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.rng = rng
        self.failures = 0

    def __repr__(self) -> str:
        return f"Backoff(base={self.base!r}, cap={self.cap!r}, failures={self.failures!r})"

    def failed(self) -> float:
        """Count one more failure; the seconds to wait before the next try."""
        self.failures += 1
        return delay(self.failures, self.base, self.cap, self.jitter, self.rng)

    def reset(self) -> None:
        """A success: the next failure waits ``base`` again."""
        self.failures = 0
