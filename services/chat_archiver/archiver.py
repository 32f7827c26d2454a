"""Recording one channel's chat into minute batches, and merging the batches found on disk.

Each connection is a :class:`Recorder`: it gives every message a time and a range
(the server's ``tmi-sent-ts`` when there is one; otherwise between the last
timestamped message and the next, see docs/DESIGN.md ``## Chat``) and puts it in
its minute's pending batch. A batch is written once its minute is ``lag`` seconds
old (a late message for a written minute makes a second file, merged later).
The merger merges every minute that has more than one file (recorded here twice
across a RECONNECT, or copied from a peer by the backfiller).
"""

import logging
import os
import random
import string
import time

import gevent
import gevent.event

from services.archive import chat
from services.chat_archiver.irc import Connection, NotIRC
from services.chat_archiver.metrics import ChatArchiverMetrics
from services.runtime.backoff import Backoff

logger = logging.getLogger(__name__)

__all__ = ["MAX_DELAY", "PADDING", "RECORDED", "Archiver", "Recorder"]

# Twitch delivers JOIN and PART late, by up to 30 s as observed; 45 s covers that.
DELAYED = frozenset({"JOIN", "PART"})
MAX_DELAY = 45
# A message with no server time is placed this much either side of its estimate.
PADDING = 5
RECORDED = frozenset(
    {"PRIVMSG", "USERNOTICE", "CLEARCHAT", "CLEARMSG", "ROOMSTATE", "NOTICE", "HOSTTARGET",
     "USERSTATE"} | DELAYED
)  # fmt: skip


class Pending:
    """The batches not yet written, by minute; bounded by :data:`chat.MAX_BATCH_MESSAGES` each."""

    def __init__(self) -> None:
        self.batches: dict[int, list[dict]] = {}

    def add(self, message: dict) -> bool:
        batch = self.batches.setdefault(chat.batch_minute(message), [])
        if len(batch) >= chat.MAX_BATCH_MESSAGES:
            return False
        batch.append(message)
        return True

    def near(self, minute: int) -> list[dict]:
        return self.batches.get(minute, []) + self.batches.get(minute - 60, [])

    def due(self, now: float, lag: float) -> list[tuple[int, list[dict]]]:
        """Remove and return the batches whose minute ended more than ``lag`` s ago."""
        ready = [m for m in self.batches if m + chat.BATCH_INTERVAL + lag <= now]
        return [(m, self.batches.pop(m)) for m in sorted(ready)]


class Recorder:
    """One connection's view of the chat: turns its messages into timed records."""

    def __init__(self, receiver: str, channel: str, pending: Pending, metrics) -> None:
        self.receiver = receiver
        self.channel = channel
        self.pending = pending
        self.metrics = metrics
        self.ready = False  # until the first ROOMSTATE: per-connection noise (our own JOIN)
        self.last_server_time: float | None = None
        self.last_received: float = 0.0
        self._full_warned = False

    def _ignore(self, reason: str) -> None:
        self.metrics.ignored.labels(self.channel, reason).inc()

    def handle(self, message: dict, received: float) -> dict | None:
        """The record of ``message`` (also added to the pending batches), or None if ignored."""
        command = message["command"]
        if command not in RECORDED:
            self._ignore("command")
            return None
        params = message["params"]
        if not params:
            self._ignore("no_channel")
            return None
        if params[0].lstrip("#") != self.channel:
            self._ignore("other_channel")
            return None
        if not self.ready:
            self.ready = command == "ROOMSTATE"
            self._ignore("before_roomstate")
            return None
        record = dict(message)
        record["receivers"] = {self.receiver: received}
        sent = _server_time(message["tags"])
        if sent is not None:
            start, length = sent, 0
            # what came before this message must have been sent before it
            for other in self.pending.near(chat.batch_minute({"time": sent})):
                if 0 < sent - other["time"] < other["time_range"]:
                    other["time_range"] = sent - other["time"]
            self.last_server_time, self.last_received = sent, received
        elif self.last_server_time is not None:
            estimate = self.last_server_time + received - self.last_received
            start = max(estimate - PADDING, self.last_server_time)
            length = 2 * PADDING
        else:
            start, length = received - 2 * PADDING, 3 * PADDING
        if command in DELAYED:
            start -= MAX_DELAY
            length += MAX_DELAY
        record["time"], record["time_range"] = start, length
        if not self.pending.add(record):
            self._ignore("batch_full")
            if not self._full_warned:
                self._full_warned = True
                logger.warning(
                    "%r: a minute has %d messages, the most one file holds: dropping the rest",
                    self.channel,
                    chat.MAX_BATCH_MESSAGES,
                )
            return None
        self.metrics.messages.labels(self.channel, command).inc()
        return record


def _server_time(tags: dict) -> float | None:
    sent = tags.get("tmi-sent-ts")
    if sent is None or not sent.isdigit() or len(sent) > 15:
        return None
    return int(sent) / 1000


class Archiver:
    """Records ``channel`` from ``url`` into ``BASE/CHANNEL/chat`` and merges what is there."""

    def __init__(
        self,
        base_dir: str,
        channel: str,
        name: str,
        url: str,
        *,
        token: str | None = None,
        lag: float = 60.0,
        merge_interval: float = 60.0,
        idle: float = 120.0,
        backoff_cap: float = 60.0,
        metrics=None,
    ) -> None:
        self.chat_dir = os.path.join(base_dir, channel, chat.CHAT)
        self.channel = channel
        slug = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        self.name = f"{name}.{slug}"  # two runs of one node are two receivers
        self.url = url
        self.token = token
        self.lag = lag
        self.merge_interval = merge_interval
        self.idle = idle
        self.backoff = Backoff(0.5, backoff_cap)
        self.metrics = metrics or ChatArchiverMetrics.of()
        self.pending = Pending()
        self.sessions = 0
        self._bad_warned: set[str] = set()

    # --- writing and merging ---

    def flush(self, everything: bool = False) -> None:
        """Write the batches that are due (all of them when stopping)."""
        now = float("inf") if everything else time.time()
        for minute, messages in self.pending.due(now, self.lag):
            path = chat.write_batch(self.chat_dir, minute, messages)
            self.metrics.batches.labels(self.channel).inc()
            logger.debug("wrote %r", path)

    def merge_pass(self) -> int:
        """Merge every minute with several files; the number merged."""
        merged = 0
        for minute in chat.crowded_minutes(self.chat_dir):
            if len(chat.minute_files(self.chat_dir, minute)) < 2:
                continue  # merged already, with a neighbour
            # in a thread: a minute's parse and merge must not hold up the loop
            _, _, bad = gevent.get_hub().threadpool.apply(
                chat.merge_minute, (self.chat_dir, minute)
            )
            for path in bad:
                self.metrics.bad_files.labels(self.channel).inc()
                if len(self._bad_warned) < 100 and path not in self._bad_warned:
                    self._bad_warned.add(path)
                    logger.warning("%r is not a batch: hidden as .NAME.bad, not merged", path)
            merged += 1
            self.metrics.merges.labels(self.channel).inc()
            gevent.sleep(0)
        return merged

    def _flusher(self, stopping: gevent.event.Event) -> None:
        while not stopping.wait(1.0):
            self.flush()

    def _merger(self, stopping: gevent.event.Event) -> None:
        while True:
            self.merge_pass()
            if stopping.wait(self.merge_interval):
                return

    # --- connections ---

    def _session(self, reconnect: gevent.event.Event) -> None:
        """One connection until it ends; sets ``reconnect`` if the server asks for a new one."""
        receiver = f"{self.name}.{self.sessions}"
        self.sessions += 1
        recorder = Recorder(receiver, self.channel, self.pending, self.metrics)

        def refused(reason: str) -> None:
            self.metrics.refused_lines.labels(self.channel, reason).inc()

        conn = Connection(
            self.url, self.channel, token=self.token, idle=self.idle, on_refused=refused
        )
        outcome = "error"
        try:
            conn.connect()
            logger.info("connected to %s:%d as %r", conn.host, conn.port, receiver)
            for message, received in conn.messages():
                if message["command"] == "RECONNECT":
                    logger.info("the server asked us to reconnect: opening a new connection")
                    outcome = "reconnect"
                    reconnect.set()
                    continue
                if recorder.handle(message, received) is not None or recorder.ready:
                    self.backoff.reset()
        except NotIRC as exc:
            outcome = "not_irc"
            logger.warning("chat server %s: %s; reconnecting", self.url, exc)
        except ConnectionRefusedError as exc:
            outcome = "refused"
            logger.warning("chat server %s: %s; reconnecting", self.url, exc)
        except (OSError, ConnectionError) as exc:
            outcome = outcome if outcome == "reconnect" else "closed"
            logger.warning("chat server %s: %s; reconnecting", self.url, exc)
        finally:
            conn.close()
            self.metrics.connections.labels(self.channel, outcome).inc()

    def run(self, stopping: gevent.event.Event) -> None:
        """Record and merge until ``stopping`` is set; then write what is pending."""
        helpers = [gevent.spawn(self._flusher, stopping), gevent.spawn(self._merger, stopping)]
        reconnect = gevent.event.Event()
        current = gevent.spawn(self._session, reconnect)
        old: list[gevent.Greenlet] = []
        try:
            while not stopping.is_set():
                gevent.wait([stopping, current, reconnect], count=1)
                if stopping.is_set():
                    break
                if reconnect.is_set():
                    # the old connection keeps recording until the server closes it
                    reconnect.clear()
                    old = [g for g in old if not g.dead]
                    for g in old:  # at most one old connection at a time
                        g.kill(block=False)
                    old = [current]
                    current = gevent.spawn(self._session, reconnect)
                    continue
                if current.dead:
                    wait = self.backoff.failed()
                    if stopping.wait(wait):
                        break
                    current = gevent.spawn(self._session, reconnect)
        finally:
            gevent.killall([current, *old, *helpers])
            self.flush(everything=True)
            self.merge_pass()
