"""Notices to people: JSON posted to webhooks (``--notify URL``) when something happened.

Not the database's event notifications (:mod:`services.db.notify`, which wake
services): these tell a team's chat that a clip is done, an event failed, a
recording fell behind or missed segments, or a peer is unreachable.

Each URL has its own queue and greenlet, so a webhook that is down delays only
its own notices and never the service: :meth:`Notifier.notify` only appends to
the queues (at most :data:`QUEUE` notices each; when full, the oldest is dropped
and counted). The greenlet posts one notice at a time and retries a failed post
with backoff (1 s doubling to a minute, :mod:`services.runtime.backoff`) until it
is taken; a 4xx answer other than 408/429 means the body will never be taken, so
that notice is dropped (counted) and the next one sent. Every attempt is counted:
``fastseg_notify_sent_total``, ``..._failed_total``, ``..._dropped_total{reason}``.

The body depends on the URL (or ``--notify-format``): a Discord webhook
(``https://discord.com/api/webhooks/ID/TOKEN``, by its path) gets ``{"content": TEXT}``; Zulip's
Slack-compatible incoming webhook (``.../api/v1/external/slack_incoming?...``)
gets ``{"text": TEXT}``; any other URL the generic body, ``{"kind", "text",
"service", "node", "time", "fields"}``, whose ``text`` also suits Slack-like hooks.
"""

import argparse
import collections
import datetime as dt
import logging
import socket
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event
import requests

from services.runtime import backoff
from services.runtime.metrics import MetricSet, counter

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "Notice", "Notifier", "NotifyMetrics", "add_notify_arguments", "body"]

#: Notices waiting per webhook; the oldest is dropped past it.
QUEUE = 100
#: Seconds one post may take.
TIMEOUT = 10.0
#: Seconds before the first retry of a post, and the most between two.
RETRY = (1.0, 60.0)
#: Discord refuses a ``content`` longer than this.
DISCORD_MAX = 2000
FORMATS = ("auto", "generic", "discord", "zulip")


class NotifyMetrics(MetricSet):
    """Notices posted to webhooks, by the service that posted them."""

    sent = counter("fastseg_notify_sent_total", "Notices a webhook took (2xx)", ("service",))
    failed = counter(
        "fastseg_notify_failed_total",
        "Posts of a notice that failed (no answer, 5xx, 408, 429, or a 4xx: then dropped)",
        ("service",),
    )
    dropped = counter(
        "fastseg_notify_dropped_total",
        "Notices never delivered: full (the queue was full: the oldest went), "
        "refused (a 4xx: the webhook will never take it), repeat (the same notice again "
        "too soon), stopping (still queued when the service stopped)",
        ("service", "reason"),
    )


@dataclass(frozen=True)
class Notice:
    """What happened: a ``kind`` (``clip_done``, ``event_failed``, ...), one line for people,
    and the details as fields for programs."""

    kind: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def format_for(url: str, chosen: str = "auto") -> str:
    """The body a webhook gets: ``chosen``, or with ``auto`` the one its URL calls for."""
    if chosen != "auto":
        return chosen
    parts = urllib.parse.urlsplit(url)
    # Discord's execute route (and its clones') is /api/webhooks/ID/TOKEN, whatever the host.
    if parts.path.startswith(("/api/webhooks/", "/api/v10/webhooks/", "/api/v9/webhooks/")):
        return "discord"
    if "/api/v1/external/" in parts.path:
        return "zulip"
    return "generic"


def body(notice: Notice, fmt: str, service: str, node: str) -> dict[str, Any]:
    """The JSON posted for ``notice`` in format ``fmt`` (not ``auto``)."""
    if fmt == "discord":
        text = notice.text
        if len(text) > DISCORD_MAX:
            text = text[: DISCORD_MAX - 1] + "…"
        return {"content": text, "allowed_mentions": {"parse": []}}
    if fmt == "zulip":
        return {"text": notice.text}
    return {
        "kind": notice.kind,
        "text": notice.text,
        "service": service,
        "node": node,
        "time": notice.time,
        "fields": notice.fields,
    }


def webhook_url(text: str) -> str:
    """An argparse type for ``--notify``: an http(s) URL with a host."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected a webhook's http:// or https:// URL, got {text!r}"
        )
    return text


def add_notify_arguments(parser: argparse.ArgumentParser, extra: str = "") -> None:
    """``--notify URL`` (repeatable), ``--notify-format`` and ``--notify-name``."""
    parser.add_argument(
        "--notify", action="append", default=[], type=webhook_url, metavar="URL",
        help=f"post a JSON notice to this webhook when {extra or 'something happens'} "
             "(repeat for several; default: none)",
    )  # fmt: skip
    parser.add_argument(
        "--notify-format", choices=FORMATS, default="auto",
        help="the body posted: discord ({\"content\"}), zulip ({\"text\"}, its "
             "Slack-compatible incoming webhook), generic, or auto: by each URL "
             "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--notify-name",
        help="the node named in notices (default: this service's own name for itself, "
             "else the host name)",
    )  # fmt: skip


class _Hook:
    """One webhook: its queue and the greenlet that empties it."""

    def __init__(self, url: str, fmt: str, owner: "Notifier") -> None:
        self.url = url
        self.fmt = fmt
        self.owner = owner
        self.queue: collections.deque[Notice] = collections.deque()
        self.ready = gevent.event.Event()
        self.backoff = backoff.Backoff(owner.retry[0], owner.retry[1], backoff.equal_jitter)
        self.down = False  # logged once per outage
        self.greenlet: gevent.Greenlet | None = None

    def put(self, notice: Notice) -> None:
        if len(self.queue) >= self.owner.queue_size:
            self.queue.popleft()
            self.owner.metrics.dropped.labels(self.owner.service, "full").inc()
        self.queue.append(notice)
        self.ready.set()

    def run(self) -> None:
        session = requests.Session()
        session.trust_env = False  # a team's webhook, not the environment's proxy
        try:
            while True:
                self.ready.wait()
                while self.queue:
                    self._post(session, self.queue[0])
                self.ready.clear()
        finally:
            session.close()

    def _post(self, session: requests.Session, notice: Notice) -> None:
        metrics, service = self.owner.metrics, self.owner.service
        payload = body(notice, self.fmt, service, self.owner.node)
        try:
            answer = session.post(self.url, json=payload, timeout=self.owner.timeout)
            status: int | None = answer.status_code
            answer.close()
            problem = None if status < 300 else f"HTTP {status}"
        except requests.RequestException as e:
            status, problem = None, f"{type(e).__name__}: {e}"
        if problem is None:
            metrics.sent.labels(service).inc()
            if self.down:
                logger.info("webhook %s takes notices again", _redacted(self.url))
            self.down = False
            self.backoff.reset()
            self._done(notice)
            return
        metrics.failed.labels(service).inc()
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            logger.warning("webhook %s refused a %s notice (%s): dropped",
                           _redacted(self.url), notice.kind, problem)  # fmt: skip
            metrics.dropped.labels(service, "refused").inc()
            self._done(notice)
            return
        delay = self.backoff.failed()
        if not self.down:
            logger.warning("webhook %s: %s: retrying with backoff (up to %d queued)",
                           _redacted(self.url), problem, self.owner.queue_size)  # fmt: skip
            self.down = True
        gevent.sleep(delay)

    def _done(self, notice: Notice) -> None:
        if self.queue and self.queue[0] is notice:
            self.queue.popleft()


def _redacted(url: str) -> str:
    """A webhook's URL without its path and query: they hold its secret token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..."


class Notifier:
    """Posts notices to every ``--notify`` URL; see the module docstring.

    ``notify`` never blocks. A notice given a ``key`` is not sent again for the same
    key within ``every`` seconds (a failing job retried every minute is one notice).
    """

    def __init__(self, urls: list[str], service: str, node: str, fmt: str = "auto",
                 metrics: NotifyMetrics | None = None, queue_size: int = QUEUE,
                 timeout: float = TIMEOUT, retry: tuple[float, float] = RETRY) -> None:  # fmt: skip
        self.service = service
        self.node = node
        self.metrics = metrics or NotifyMetrics.of()
        self.queue_size = queue_size
        self.timeout = timeout
        self.retry = retry
        self.hooks = [_Hook(url, format_for(url, fmt), self) for url in urls]
        self._last: dict[str, float] = {}

    @classmethod
    def from_args(cls, args: argparse.Namespace, service: str, name: str | None = None
                  ) -> "Notifier":  # fmt: skip
        node = args.notify_name or name or socket.gethostname()
        return cls(args.notify, service, node, args.notify_format)

    def start(self) -> "Notifier":
        for hook in self.hooks:
            hook.greenlet = gevent.spawn(hook.run)
        return self

    def notify(self, kind: str, text: str, *, key: str | None = None, every: float = 0,
               **fields: Any) -> None:  # fmt: skip
        """Queue a notice for every webhook (nothing without ``--notify``)."""
        if not self.hooks:
            return
        if key is not None:
            now = time.monotonic()
            last = self._last.get(key)
            if last is not None and now - last < every:
                self.metrics.dropped.labels(self.service, "repeat").inc()
                return
            if len(self._last) > 10_000:  # keys are events and peers: bounded all the same
                self._last.clear()
            self._last[key] = now
        notice = Notice(kind, text, fields)
        logger.debug("notice %s: %s", kind, text)
        for hook in self.hooks:
            hook.put(notice)

    def close(self, timeout: float = 5.0) -> None:
        """Give the queues ``timeout`` seconds to empty, then stop (what is left is counted)."""
        deadline = time.monotonic() + timeout
        while any(h.queue for h in self.hooks) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        for hook in self.hooks:
            if hook.greenlet is not None:
                hook.greenlet.kill()
            if hook.queue:
                self.metrics.dropped.labels(self.service, "stopping").inc(len(hook.queue))
                hook.queue.clear()
