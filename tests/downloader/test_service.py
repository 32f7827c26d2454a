"""The downloader as a service: its command line, several channels, broken playlists, stopping."""

import re
import subprocess
import sys

import pytest

from tests.downloader.archive import archive
from tests.downloader.test_faults import FAST_TIMEOUTS, missing_full, snapshot
from tests.servers import ROOT
from tests.waiting import wait_until


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["chan"], r"needs one --url per channel: 1 channel\(s\), 0 --url", id="no url"
        ),
        pytest.param(
            ["a", "b", "--url", "http://x/m.m3u8"],
            r"2 channel\(s\), 1 --url",
            id="too few urls",
        ),
        pytest.param(
            ["a", "a", "--url", "u", "--url", "u"],
            r"a channel is named twice in \['a', 'a'\]",
            id="twice",
        ),
        pytest.param(
            ["../up", "--url", "u"], r"channel '../up' cannot be a directory name", id="path"
        ),
        pytest.param(
            ["chan", "--provider", "twitch", "--url", "u"],
            r"--url is for --provider hls",
            id="twitch url",
        ),
        pytest.param(
            ["chan", "--url", "u", "--qualities", " , "],
            r"--qualities ' , ' names no quality",
            id="qualities",
        ),
        pytest.param(
            ["chan", "--url", "u", "--soft-timeout", "0"],
            r"expected a positive number of seconds, got '0'",
            id="zero timeout",
        ),
        pytest.param(
            ["chan", "--url", "u", "--soft-timeout", "9", "--hard-timeout", "3"],
            r"--hard-timeout 3.0 is shorter than --soft-timeout 9.0",
            id="hard before soft",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "services.downloader", "--base-dir", str(tmp_path), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert not list(tmp_path.iterdir())  # nothing written
    assert re.search(message, result.stderr), result.stderr


@pytest.mark.slow
def test_two_channels_in_one_process_survive_broken_playlists(
    make_origin, run_downloader, ts_stream, fmp4_stream
):
    one = make_origin({"source": ts_stream}, window=6)
    two = make_origin({"fmp4": fmp4_stream}, window=6, names=False)  # named by height: 180p
    d = run_downloader(
        "one", "two", "--url", one.master_url, "--url", two.master_url, *FAST_TIMEOUTS
    )
    wait_until(lambda: len(archive(d.base / "two")) >= 6, "channel two's first segments", 30)
    lines = one.respond("/live/1/source.m3u8")[1].splitlines(keepends=True)
    last_extinf = max(i for i, line in enumerate(lines) if line.startswith(b"#EXTINF"))
    truncated = b"".join(lines[: last_extinf + 1])  # cut off before the last entry's URI
    junk = [
        b"",
        b"<html>502 Bad Gateway</html>",
        truncated,
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:abc,\nx.ts\n",
        one.respond("/master.m3u8")[1],  # a master playlist where a media one belongs
        b"#EXTM3U\n",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n",
    ]
    one.junk_playlists(junk)
    wait_until(lambda: not one.faults.junk, "the junk to be served", 30)
    # Then a few more segments, so the window has moved past everything junk hid.
    wait_until(lambda: len(one.published["source"]) >= 20, "twenty published segments", 30)
    published = {"one": snapshot(one), "two": snapshot(two)}
    wait_until(
        lambda: (
            not missing_full(one, d.base, "one", published["one"])
            and not missing_full(two, d.base, "two", published["two"], {"fmp4": "180p"})
        ),
        "every published segment of both channels",
        30,
        interval=0.2,
        detail=lambda: (
            f"{missing_full(one, d.base, 'one', published['one'])} "
            f"{missing_full(two, d.base, 'two', published['two'], {'fmp4': '180p'})}\n{d.log}"
        ),
    )
    assert d.proc.poll() is None, "the downloader died"
    assert d.stop() == 0
    reasons = [
        "does not start with #EXTM3U: ''",
        "does not start with #EXTM3U: '<html>",
        "truncated",
        "could not convert",
        "is a master playlist",
        "has no EXT-X-TARGETDURATION",
        "lists no segments",
    ]
    for reason in reasons:
        assert reason in d.log
    assert {p.parent.name for p in (d.base / "two").glob("*/*")} == {"180p"}


@pytest.mark.slow
def test_stop_cuts_off_stuck_downloads_and_leaves_no_temp(make_origin, run_downloader, ts_stream):
    origin = make_origin({"source": ts_stream}, window=3)
    d = run_downloader("chan", "--url", origin.master_url, "--soft-timeout", "30",
                       "--hard-timeout", "60", "--stop-grace", "1")  # fmt: skip
    wait_until(lambda: len(archive(d.base)) >= 3, "the first segments", 30)
    n = origin.pause_midway(120)  # half a body, then nothing for two minutes
    wait_until(lambda: n in origin.published["source"], "the stuck segment to be listed", 30)
    start = origin.published["source"][n].start
    temps = lambda: [s for s in archive(d.base) if s.type == "temp" and s.start == start]  # noqa: E731
    wait_until(temps, "the stuck download's temp file", 30)
    assert d.stop() == 0
    assert "cutting off 1 download(s) still running" in d.log
    files = archive(d.base)
    assert [s for s in files if s.type == "temp"] == []
    (partial,) = [s for s in files if s.start == start]
    assert partial.type == "partial"
    with open(partial.path, "rb") as f:
        assert (
            f.read()
            == origin.segment_data("source", n)[: len(origin.segment_data("source", n)) // 2]
        )


def test_a_quality_the_stream_lacks_is_reported_with_what_it_has(
    make_origin, run_downloader, ts_stream
):
    origin = make_origin({"source": ts_stream, "480p": ts_stream}, window=3)
    d = run_downloader("chan", "--url", origin.master_url, "--qualities", "480p,4k")
    wait_until(lambda: "fix --qualities" in d.log, "the missing quality to be reported", 30)
    assert "channel 'chan' has no quality '4k'; it has 'source', '480p': fix --qualities" in d.log
    wait_until(lambda: archive(d.base), "the quality it has to be recorded", 30)
    assert d.stop() == 0
    assert {s.quality for s in archive(d.base)} == {"480p"}


def test_a_quality_directory_that_is_a_symlink_out_of_base_is_not_written_through(
    make_origin, run_downloader, ts_stream, tmp_path
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "base" / "chan").mkdir(parents=True)
    (tmp_path / "base" / "chan" / "source").symlink_to(elsewhere)
    origin = make_origin({"source": ts_stream, "other": ts_stream}, window=6)
    d = run_downloader("chan", "--url", origin.master_url, *FAST_TIMEOUTS)
    wait_until(lambda: len(archive(d.base / "chan" / "other")) >= 3, "the other quality", 30)
    wait_until(lambda: "not recording" in d.log, "the refusal", 30)
    assert d.stop() == 0
    assert list(elsewhere.iterdir()) == []
    refusals = [line for line in d.lines if "not recording" in line]
    assert len(refusals) == 1, d.log  # once, not once a segment
    assert "resolves to" in refusals[0]
    assert "outside the archive" in refusals[0]
