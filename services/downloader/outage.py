"""One line when a URL stops answering, quiet while it stays down, one line when it is back.

An origin that is down for an hour must not fill the log with a multi-line
urllib3 message per attempt; an operator needs to read what is wrong once (and a
reminder now and then), and when it came back.
"""

import logging
import re
import time

import requests

logger = logging.getLogger(__name__)

#: Seconds between the reminders that a URL is still failing.
REMIND_EVERY = 60.0

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def describe(exc: BaseException) -> str:
    """A few words for why a fetch failed: ``connection refused``, ``HTTP 503``, ``timed out``."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    found = _ERRNO.findall(text)
    if found:
        return found[-1].strip().lower()
    if isinstance(exc, requests.ConnectionError):
        if "RemoteDisconnected" in text or "Connection aborted" in text:
            return "the connection was closed"
        return "connection failed"
    return text.splitlines()[0] if text else type(exc).__name__


class Outage:
    """The failures in a row of fetching one URL, logged as described in the module docstring."""

    def __init__(self, who: str, url: str):
        self.who, self.url = who, url
        self.failures = 0
        self.began = self.reminded = 0.0
        self.reason = ""

    def failed(self, exc: BaseException, retry_in: float) -> None:
        self.failures += 1
        now = time.monotonic()
        reason = describe(exc)
        reach = "cannot reach" if _unreachable(exc) else "failed to fetch"
        if self.failures == 1:
            self.began = self.reminded = now
            logger.warning(
                "%s: %s %s: %s; retrying in %g s, less often while it fails",
                self.who, reach, self.url, reason, retry_in,
            )  # fmt: skip
        elif reason != self.reason:  # a new kind of trouble is worth a line of its own
            self.reminded = now
            logger.warning(
                "%s: %s %s: %s (%d failures in a row)",
                self.who, reach, self.url, reason, self.failures,
            )  # fmt: skip
        elif now - self.reminded >= REMIND_EVERY:
            self.reminded = now
            logger.warning(
                "%s: still %s %s after %d attempts over %.0f s: %s",
                self.who, reach, self.url, self.failures, now - self.began, reason,
            )  # fmt: skip
        else:
            logger.debug(
                "%s: %s %s (%d in a row): %s", self.who, reach, self.url, self.failures, reason
            )
        self.reason = reason

    def succeeded(self) -> None:
        if self.failures:
            logger.info(
                "%s: %s answers again, after %d failed attempts over %.0f s",
                self.who,
                self.url,
                self.failures,
                time.monotonic() - self.began,
            )
        self.failures = 0
        self.reason = ""


def _unreachable(exc: BaseException) -> bool:
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))
