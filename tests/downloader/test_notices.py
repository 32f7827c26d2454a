"""The downloader's notices: segments missed, recording behind and caught up, to a webhook."""

import pytest

from tests.downloader.archive import archive
from tests.downloader.test_faults import FAST_TIMEOUTS
from tests.waiting import wait_until
from tests.webhook import Webhook

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.stop()


def test_missed_segments_and_a_stalled_origin_are_notices(
    make_origin, run_downloader, ts_stream, webhook
):
    origin = make_origin({"source": ts_stream}, window=4)
    d = run_downloader("chan", "--url", origin.master_url, *FAST_TIMEOUTS,
                       "--notify", f"{webhook.url}/hook", "--notify-name", "node-a",
                       "--notify-behind-after", "8")  # fmt: skip
    wait_until(lambda: len(archive(d.base)) >= 3, "the first segments", 30)
    origin.skip_ahead(3)
    missed = wait_until(lambda: webhook.bodies("missed_segments"), "a missed-segments notice", 40,
                        detail=lambda: d.log)  # fmt: skip
    assert missed[0]["fields"]["segments"] == 3
    assert missed[0]["fields"]["quality"] == "source"
    assert missed[0]["node"] == "node-a"
    assert missed[0]["service"] == "downloader"
    assert "chan/source missed 3 segments" in missed[0]["text"]
    origin.go_down()
    behind = wait_until(lambda: webhook.bodies("recording_behind"), "a behind notice", 40,
                        detail=lambda: d.log)  # fmt: skip
    assert behind[-1]["fields"]["channel"] == "chan"
    assert behind[-1]["fields"]["seconds"] >= 8
    origin.come_back()
    wait_until(lambda: len(webhook.bodies("recording_caught_up")) == len(behind),
               "a caught-up notice", 40, detail=lambda: d.log)  # fmt: skip
    # One notice each time it falls behind, one each time it catches up: no repeats.
    assert len(webhook.bodies("recording_behind")) == len(behind)
    assert d.stop() == 0, d.log
