"""The Twitch provider against a local server that speaks Twitch's protocol, ads and all."""

import pytest

from tests.downloader.archive import archive
from tests.downloader.test_faults import FAST_TIMEOUTS, metric_values, missing_full, snapshot
from tests.downloader.twitch_server import TwitchOrigin
from tests.waiting import wait_until


@pytest.mark.slow
def test_twitch_records_every_quality_and_drops_ads(make_origin, run_downloader, ts_stream):
    twitch = make_origin(
        {"chunked": ts_stream, "160p30": ts_stream}, cls=TwitchOrigin, channel="speedrun",
        offline={"sleepy"}, window=6,
    )  # fmt: skip
    d = run_downloader(
        "speedrun", "sleepy", "nobody", "--provider", "twitch", "--qualities", "source,160p30",
        "--twitch-gql-url", twitch.gql_url, "--twitch-usher-url", twitch.usher_url,
        "--metrics-port", "0", *FAST_TIMEOUTS,
    )  # fmt: skip
    port = d.metrics_port()
    wait_until(lambda: len(archive(d.base)) >= 6, "the first segments", 30)
    ads = []
    for kind in ("title", "class", "id"):
        last = twitch.ad_break(3, kind)[-1]
        ads += range(last - 2, last + 1)
        wait_until(
            lambda last=last: twitch.published_count() > last + 2, f"the {kind} ads to pass", 30
        )
    wait_until(
        lambda: twitch.published_count() > ads[-1] + 8, "the last ad to leave the window", 30
    )
    published = snapshot(twitch)
    live = {
        v: {n: p for n, p in segs.items() if n not in twitch.ads} for v, segs in published.items()
    }
    qualities = {"chunked": "source"}
    wait_until(
        lambda: not missing_full(twitch, d.base, "speedrun", live, qualities),
        "every live segment",
        30,
        interval=0.2,
        detail=lambda: f"{missing_full(twitch, d.base, 'speedrun', live, qualities)}\n{d.log}",
    )
    dropped = metric_values(port, "fastseg_downloader_ads_dropped_total")
    assert d.stop() == 0, d.log

    files = archive(d.base)
    assert {(s.channel, s.quality) for s in files} == {
        ("speedrun", "source"),
        ("speedrun", "160p30"),
    }
    ad_starts = {published["chunked"][n].start for n in ads}
    assert not [s for s in files if s.start in ad_starts], "an ad segment was stored"
    # Each quality dropped each of the 9 ad segments once (no worker was replaced).
    assert sorted(dropped) == [9.0, 9.0]
    # Prefetch hints name segments that do not exist yet: they were never fetched.
    assert not [p for _, p, status in twitch.requests if p.startswith("/seg/") and status != 200]
    logins = {body["variables"]["login"] for body in twitch.gql_bodies}
    assert logins == {"speedrun", "sleepy", "nobody"}
    assert "channel 'sleepy' is offline (usher answered 404)" in d.log
    assert "twitch has no channel 'nobody': check the name" in d.log
    assert not [s for s in files if s.type == "temp"]
