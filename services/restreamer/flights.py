"""Identical concurrent computations done once: the later callers wait for the first.

A 24-hour playlist costs tens of milliseconds of CPU; when a stream's editors
all open the same range at once, that cost should be paid once, not per viewer.
Only computations in flight are shared: nothing is cached after they finish
(the archive grows, and get_best_segments already caches each hour).
"""

import logging
from collections.abc import Callable, Hashable
from typing import Any

import gevent.event

logger = logging.getLogger(__name__)

__all__ = ["Flights"]


class Flights:
    """Run ``fn`` once per key at a time; callers arriving meanwhile get its result."""

    def __init__(self) -> None:
        self._in_flight: dict[Hashable, gevent.event.AsyncResult] = {}

    def run(self, key: Hashable, fn: Callable[[], Any]) -> tuple[Any, bool]:
        """``(result, shared)``: shared is True when another caller computed it.

        An exception raised by ``fn`` is raised to every caller waiting on it.
        """
        flight = self._in_flight.get(key)
        if flight is not None:
            return flight.get(), True
        flight = self._in_flight[key] = gevent.event.AsyncResult()
        try:
            value = fn()
        except Exception as exc:
            flight.set_exception(exc)
            raise
        except BaseException:  # GreenletExit and the like: let the waiters try again
            flight.set_exception(RuntimeError("the playlist computation was interrupted"))
            raise
        else:
            flight.set(value)
            return value, False
        finally:
            del self._in_flight[key]
