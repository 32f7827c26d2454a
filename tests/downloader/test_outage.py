"""An origin that goes away: one line saying so, quiet while it stays down, and the stretch missed.

The fault origin closes its port for longer than its playlist window while the live
stream goes on, so segments come and go unseen; the downloader must say which, and
count them.
"""

import re
import time

import pytest

from tests.downloader.archive import archive
from tests.downloader.test_faults import FAST_TIMEOUTS, metric_values, snapshot
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

MISSED = re.compile(
    r"channel 'chan' quality 'source': missed (\d+) segments, (\S+)Z to (\S+)Z: "
    r"they left the playlist while the origin was unreachable"
)


def test_outage_longer_than_the_window_logs_the_missed_stretch(
    make_origin, run_downloader, ts_stream
):
    origin = make_origin({"source": ts_stream}, window=4)
    d = run_downloader("chan", "--url", origin.master_url, "--metrics-port", "0", *FAST_TIMEOUTS)
    port = d.metrics_port()
    wait_until(lambda: "recording source (the stream offers source)" in d.log, "the qualities", 30)
    wait_until(lambda: len(archive(d.base)) >= 3, "the first segments", 30)
    origin.go_down()
    down_at = time.monotonic()
    wait_until(lambda: "cannot reach" in d.log, "the outage to be noticed", 30)
    time.sleep(max(0.0, 10 - (time.monotonic() - down_at)))  # the window is 4 s
    origin.come_back()
    found = wait_until(lambda: MISSED.search(d.log), "the missed stretch", 40, detail=lambda: d.log)
    missed = int(found.group(1))
    # Exactly the segments the origin never listed to anyone, and their times.
    listed = sorted(snapshot(origin)["source"])
    unseen = [n for n in range(listed[0], listed[-1]) if n not in listed]
    assert missed == len(unseen), d.log
    assert missed > 4, d.log  # more than the window
    assert found.group(2) == origin.start_of(unseen[0]).isoformat(timespec="seconds"), d.log
    assert found.group(3) == origin.start_of(unseen[-1] + 1).isoformat(timespec="seconds"), d.log
    assert metric_values(port, "fastseg_downloader_missed_segments_total") == [missed]
    assert d.stop() == 0, d.log
    # The media playlist's failure: one line at first, not a multi-line urllib3 message
    # each attempt (reminders come once a minute).
    worker_lines = [x for x in d.lines if "worker chan/source" in x and "media" not in x]
    refused = [x for x in worker_lines if "cannot reach" in x]
    assert 1 <= len(refused) <= 2, "".join(refused)
    assert "connection refused" in refused[0] or "closed" in refused[0], refused[0]
    for noise in ("Traceback", "urllib3", "HTTPConnection"):
        assert noise not in d.log
    assert "answers again" in d.log
