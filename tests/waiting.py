"""Synchronising tests with processes by polling for a condition, never by fixed sleeps."""

import time

import pytest


def wait_until(predicate, what, timeout=120.0, interval=0.05, detail=None, sleep=time.sleep):
    """Poll ``predicate`` until it returns something true, and return that.

    Fails the test saying ``what`` never happened; ``detail()``, if given, adds
    what the test knows (a log, say) to the message. A test running greenlets in
    its own process passes ``sleep=gevent.sleep`` so that they run meanwhile.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what}{extra}")
        sleep(interval)
