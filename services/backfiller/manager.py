"""Keeps one worker running per current peer, as the peer list changes.

The list is read again every refresh (from ``--node-file`` or ``--db``); peers
that appear get a :class:`~services.backfiller.worker.PeerWorker`, peers that
go away have theirs stopped. A source that cannot be read is logged and the
old list kept.
"""

import logging

import gevent

from services.backfiller.peers import Peer, exclude_self
from services.backfiller.worker import Config, PeerWorker

logger = logging.getLogger(__name__)

__all__ = ["Backfiller"]


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
        for peer in peers:
            if peer not in self.workers:
                logger.info("backfilling from peer %r at %s", peer.name, peer.url)
                worker = PeerWorker(peer, self.config, self.stopping)
                self.workers[peer] = gevent.spawn(worker.run)

    def run(self) -> int:
        """Run until stopped (or, with run_once, until every peer has had a pass)."""
        if self.config.run_once:
            return self._run_once()
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
