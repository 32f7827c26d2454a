"""The backfiller's notice of an unreachable peer, posted to a webhook that is down at first."""

import pytest

from tests.backfiller.trees import tree
from tests.waiting import wait_until
from tests.webhook import Webhook

pytestmark = pytest.mark.slow


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
