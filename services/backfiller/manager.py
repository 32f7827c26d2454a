"""Keeps one worker running per current peer, as the peer list changes.

The list is read again every refresh (from ``--node-file`` or ``--db``); peers
that appear get a :class:`~services.backfiller.worker.PeerWorker`, peers that
go away have theirs stopped. A source that cannot be read is logged and the
old list kept. A worker that dies of an unexpected exception (a bug: what a peer
sends is refused, never raised this far) is logged with its traceback, counted
and started again with backoff, so no peer is left unserved for good.
"""

import logging
import sys
import time

import gevent

from services.backfiller.fetch import shorten_switch_interval
from services.backfiller.peers import Peer, exclude_self
from services.backfiller.worker import Config, PeerWorker
from services.runtime import backoff
from services.runtime.notices import Notifier

logger = logging.getLogger(__name__)

__all__ = ["Backfiller"]

#: A worker that ran this long before dying is restarted after the first backoff step again.
HEALTHY_RUN = 60.0


class Backfiller:
    """Keeps one running worker per current peer; see the module docstring."""

    def __init__(self, config: Config, load, localhost: str, refresh: float, stopping,
                 load_errors: tuple[type[Exception], ...] = ()):  # fmt: skip
        self.config = config
        self.load = load
        self.load_errors = load_errors  # what else ``load`` raises when its source is down
        self.localhost = localhost
        self.refresh = refresh
        self.stopping = stopping
        self.workers: dict[Peer, gevent.Greenlet] = {}
        self.peer_workers: dict[Peer, PeerWorker] = {}
        self.notifier: Notifier | None = None
        self.down_after = 300.0
        self.down: set[Peer] = set()  # peers told to be unreachable, not yet back

    def _peers(self) -> list[Peer] | None:
        """The current peers, or None (logged) if their source cannot be read."""
        try:
            return exclude_self(self.load(), self.localhost)
        except (OSError, ValueError, *self.load_errors) as e:
            logger.error("cannot read the peer list (keeping the old one): %s", e)
            return None

    def update(self, peers: list[Peer]) -> None:
        """Start workers for new peers; stop those of peers no longer listed."""
        for peer in list(self.workers):
            if peer not in peers:
                logger.info("peer %r (%s) removed: stopping its worker", peer.name, peer.url)
                self.workers.pop(peer).kill(block=True)
                self.peer_workers.pop(peer, None)
                self.down.discard(peer)
                try:
                    self.config.metrics.pass_age.remove(peer.name)
                except KeyError:  # its worker never started
                    pass
        for peer in peers:
            if peer not in self.workers:
                logger.info("backfilling from peer %r at %s", peer.name, peer.url)
                worker = PeerWorker(peer, self.config, self.stopping)
                self.peer_workers[peer] = worker
                self.workers[peer] = gevent.spawn(self._supervise, worker)

    def _supervise(self, worker: PeerWorker) -> str | None:
        """``worker.run`` until it returns; restarted with backoff if it dies of an exception.

        Each kind of death is logged with its traceback once (then one line), every
        death is counted; with run_once the dead worker's pass counts as failed.
        """
        peer = worker.peer
        delays = backoff.Backoff(self.config.backoff, self.config.max_backoff,
                                 backoff.equal_jitter)  # fmt: skip
        seen: set[str] = set()
        while True:
            started = time.monotonic()
            try:
                return worker.run()
            except Exception as e:
                self.config.metrics.worker_restarts.labels(peer.name).inc()
                if self.config.run_once:
                    logger.exception("peer %r: worker died: its pass failed", peer.name)
                    return "failed"
                if time.monotonic() - started >= HEALTHY_RUN:
                    delays.reset()
                delay = delays.failed()
                kind = f"{type(e).__name__}: {e}"[:200]
                logger.error("peer %r: worker died (%s): starting it again in %.1f s",
                             peer.name, kind, delay, exc_info=kind not in seen)  # fmt: skip
                if len(seen) < 100:  # bounded, like everything a peer can vary
                    seen.add(kind)
            if self.stopping.wait(delay):
                return worker.outcome

    def watch_peers(self, notifier: Notifier, down_after: float) -> None:
        """Notify when a peer's passes have not finished for ``down_after`` s, and when one does."""
        self.notifier = notifier
        self.down_after = down_after

    def check_peers(self) -> None:
        """One look at every peer's last finished pass: a notice per change of down or back."""
        if self.notifier is None:
            return
        now = time.monotonic()
        for peer, worker in list(self.peer_workers.items()):
            age = now - worker.finished_at
            if age >= self.down_after and peer not in self.down:
                self.down.add(peer)
                self.notifier.notify(
                    "peer_down",
                    f"{self.localhost}: peer {peer.name} ({peer.url}) unreachable: no backfill "
                    f"pass over it finished for {age:.0f} s",
                    peer=peer.name, url=peer.url, seconds=round(age),
                )  # fmt: skip
            elif age < self.down_after and peer in self.down:
                self.down.discard(peer)
                self.notifier.notify(
                    "peer_back", f"{self.localhost}: peer {peer.name} ({peer.url}) reachable again",
                    peer=peer.name, url=peer.url,
                )  # fmt: skip

    def _watch(self) -> None:
        while not self.stopping.wait(min(5.0, self.down_after / 4)):
            self.check_peers()

    def run(self) -> int:
        """Run until stopped (or, with run_once, until every peer has had a pass).

        The process's GIL switch interval is shortened for as long as this runs, for
        the disk thread's sake (:func:`~services.backfiller.fetch.shorten_switch_interval`).
        """
        previous = shorten_switch_interval()
        try:
            return self._run_once() if self.config.run_once else self._run()
        finally:
            self.config.fetcher.close()
            sys.setswitchinterval(previous)

    def _run(self) -> int:
        watcher = gevent.spawn(self._watch)
        try:
            while not self.stopping.is_set():
                peers = self._peers()
                if peers is not None:
                    if not peers:
                        logger.warning(
                            "no peers to backfill from (this node is %r)", self.localhost
                        )
                    self.update(peers)
                self.stopping.wait(self.refresh)
        finally:
            watcher.kill()
            gevent.killall(list(self.workers.values()), block=True, timeout=30)
        logger.info("stopped")
        return 0

    def _run_once(self) -> int:
        peers = self._peers()
        if peers is None:
            return 1
        if not peers:
            logger.warning("no peers to backfill from (this node is %r)", self.localhost)
            return 0
        self.update(peers)
        running = list(self.workers.values())
        try:
            while not self.stopping.is_set() and not all(g.ready() for g in running):
                gevent.wait([*(g for g in running if not g.ready()), self.stopping], count=1)
        finally:
            gevent.killall(running, block=True, timeout=30)
        outcomes = {peer.name: g.value for peer, g in self.workers.items()}
        failed = sorted(name for name, outcome in outcomes.items() if outcome != "clean")
        if failed:
            logger.error("run once: passes over %s did not finish cleanly", ", ".join(failed))
            return 1
        logger.info("run once: every pass was clean")
        return 0
