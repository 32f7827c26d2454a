"""The backfiller's notices of an unreachable peer (and of its return), posted to a webhook."""

import time

import gevent
import gevent.event
import prometheus_client
import pytest

from services.backfiller.manager import Backfiller
from services.backfiller.metrics import BackfillerMetrics
from services.backfiller.peers import Peer
from services.backfiller.worker import Config, PeerWorker
from services.runtime.notices import Notifier, NotifyMetrics
from tests.backfiller.trees import tree
from tests.waiting import wait_until
from tests.webhook import Webhook


@pytest.mark.slow
def test_a_peer_down_is_a_notice_delivered_once_the_webhook_is_back(
    stream, tmp_path, make_peer, backfiller
):
    webhook = Webhook()
    try:
        up = make_peer(tree(stream, tmp_path / "remote", {"source": {3}}))
        down = make_peer(tmp_path / "nothing")
        down_url = down.url
        down.stop()
        webhook.stop()  # the team's chat is down too
        local = tmp_path / "local"
        local.mkdir()
        run = backfiller(local, "--node", f"up={up.url}", "--node", f"down={down_url}",
                         "--recent-cutoff", "0", "--metrics-port", "0",
                         "--notify", f"{webhook.url}/hook", "--notify-peer-down-after", "3",
                         "--localhost", "node-a")  # fmt: skip
        wait_until(lambda: run.metric("fastseg_notify_failed_total", service="backfiller") >= 1,
                   "a post failing while the webhook is down")  # fmt: skip
        webhook.start()

        def of_down():
            return [b for b in webhook.bodies("peer_down") if b["fields"]["peer"] == "down"]

        notice = wait_until(of_down, "the peer-down notice")[0]
        assert notice["fields"]["peer"] == "down"
        assert notice["fields"]["url"] == down_url
        assert notice["fields"]["seconds"] >= 3
        assert notice["node"] == "node-a"
        assert notice["service"] == "backfiller"
        assert "peer down" in notice["text"]
        assert "unreachable" in notice["text"]
        assert run.metric("fastseg_notify_sent_total", service="backfiller") >= 1
        assert len(of_down()) == 1  # once while it stays down
        assert not [b for b in webhook.bodies("peer_back") if b["fields"]["peer"] == "down"]
    finally:
        webhook.stop()


def test_a_peer_is_told_down_once_and_back_once(tmp_path):
    registry = prometheus_client.CollectorRegistry()
    config = Config(base_dir=str(tmp_path), channels=("ch",), qualities=None,
                    metrics=BackfillerMetrics.of(registry))  # fmt: skip
    webhook = Webhook()
    notifier = Notifier([f"{webhook.url}/hook"], "backfiller", "me",
                        metrics=NotifyMetrics.of(registry)).start()  # fmt: skip
    try:
        stopping = gevent.event.Event()
        backfiller = Backfiller(config, lambda: [], "me", 60, stopping)
        backfiller.watch_peers(notifier, 300)
        peer = Peer("b", "http://127.0.0.1:9")
        worker = backfiller.peer_workers[peer] = PeerWorker(peer, config, stopping)
        backfiller.check_peers()  # just started: not down
        worker.finished_at = time.monotonic() - 301  # no pass finished for 301 s
        backfiller.check_peers()
        backfiller.check_peers()  # still down: no second notice
        worker.finished_at = time.monotonic()  # a pass finished
        backfiller.check_peers()
        backfiller.check_peers()
        wait_until(lambda: len(webhook.received) >= 2, "the notices", sleep=gevent.sleep)
        gevent.sleep(0.1)
        assert [b["kind"] for b in webhook.bodies()] == ["peer_down", "peer_back"]
        assert webhook.bodies()[0]["fields"]["seconds"] == 301
        assert webhook.bodies()[1]["text"] == "me: peer b (http://127.0.0.1:9) reachable again"
    finally:
        notifier.close()
        webhook.stop()
