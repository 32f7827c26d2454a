"""Peers that misbehave: corrupt bytes, death mid-transfer, hours that vanish, hung transfers.

Each peer is a FakePeer (tests/backfiller/peer.py) over a tree of real segments;
the backfiller is a real subprocess. Synchronisation is by polling its metrics
and log, never by sleeping.
"""

import json
import signal
import urllib.parse

import pytest

from tests.backfiller.trees import CHANNEL, contents, temp_files, tree
from tests.waiting import wait_until

ALL = {"source": set()}


def names(base):
    return {path.rsplit("/", 1)[1] for path in contents(base)}


def test_corrupt_peer_gets_nothing_written_and_is_counted(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    segments = sorted(names(remote))
    bad = set(segments[::3])  # some corrupt, the rest good
    peer = make_peer(remote, corrupt=bad)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--metrics-port", "0", "--recent-cutoff", "0")
    wait_until(
        lambda: run.metric("fastseg_backfiller_passes_total", outcome="errors"), "a pass", 30
    )

    assert names(local) == set(segments) - bad  # every good one, no corrupt one, no temp
    labels = {"peer": peer.url.split("//")[1]}
    assert run.metric("fastseg_backfiller_hash_mismatches_total", **labels) == len(bad)
    assert run.metric("fastseg_backfiller_errors_total", kind="hash_mismatch", **labels) == len(bad)
    assert run.metric("fastseg_backfiller_segments_total", **labels, channel=CHANNEL,
                      quality="source") == len(segments) - len(bad)  # fmt: skip
    assert "not the name's: discarded" in run.log()
    assert run.stop() == 0


def test_peer_dying_mid_transfer_leaves_no_temp_and_is_retried(
    stream, tmp_path, make_peer, backfiller
):
    remote = tree(stream, tmp_path / "remote", ALL)
    segments = sorted(names(remote))
    peer = make_peer(remote, die_on=segments[4], down_for=1.5)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(
        local, "--node", peer.url, "--metrics-port", "0", "--recent-cutoff", "0",
        "--concurrency", "1", "--backoff", "0.2", "--max-backoff", "1",
    )  # fmt: skip
    wait_until(peer.died.is_set, "the peer to die mid-transfer", 30)
    run.wait_for_log(r"pass stopped: .*" + segments[4].split("-")[0])
    assert temp_files(local) == []  # the half-written file went with the failed pass
    wait_until(
        lambda: run.metric("fastseg_backfiller_passes_total", outcome="failed") >= 1,
        "the failed pass to be counted",
        30,
    )

    # Once the peer is back, a later pass gets everything.
    wait_until(lambda: names(local) == set(segments), "every segment to arrive", 30)
    assert temp_files(local) == []
    assert contents(local) == contents(remote)
    assert run.metric("fastseg_backfiller_errors_total", kind="unreachable") >= 1
    assert run.stop() == 0


def test_hour_listing_404_mid_pass_is_skipped(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    hours = sorted(p.name for p in (remote / CHANNEL / "source").iterdir())
    peer = make_peer(remote, gone_hours={hours[0]})
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 0, run.log()
    assert "is gone since its quality was listed" in run.log()
    want = {p for p in contents(remote) if f"/{hours[1]}/" in p}
    assert set(contents(local)) == want
    asked = f"/files/{CHANNEL}/source/{hours[0]}?tombstones=true"
    assert asked in peer.paths  # it was asked, and 404'd


def test_sigterm_during_a_hung_transfer_stops_cleanly(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    segments = sorted(names(remote))
    peer = make_peer(remote, stall_on=segments[0])
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--recent-cutoff", "0", "--concurrency", "1",
                     "--order", "oldest")  # fmt: skip
    wait_until(peer.stalled.is_set, "the transfer to hang", 30)
    # A body is held in memory until it is whole: a hung transfer has no temp file.
    assert temp_files(local) == []
    run.proc.send_signal(signal.SIGTERM)
    assert run.wait(30) == 0, run.log()
    assert temp_files(local) == []
    assert "stopped" in run.log()


def test_a_hung_peer_does_not_hold_up_the_others(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    good_base = tree(stream, tmp_path / "good", {"source": {4}})
    # Only the hung peer has this one, so it is surely asked for it, whatever the timing.
    (only_hung,) = names(remote) - names(good_base)
    hung = make_peer(remote, stall_on=only_hung)
    good = make_peer(good_base)
    local = tmp_path / "local"
    local.mkdir()
    # Quick retries: should any pass fail under load, the next one still comes in time.
    run = backfiller(local, f"--node=hung={hung.url}", f"--node=good={good.url}",
                     "--recent-cutoff", "0", "--concurrency", "1",
                     "--backoff", "0.1", "--max-backoff", "0.5")  # fmt: skip
    # Everything the good peer has arrives while the hung peer's transfer is still open.
    stored = lambda: {n for n in names(local) if "-temp-" not in n}  # noqa: E731
    wait_until(
        lambda: stored() == names(good_base),
        "the good peer's segments",
        30,
        detail=lambda: run.log()[-3000:],
    )
    wait_until(hung.stalled.is_set, "the hung peer's transfer to stall", 30)
    # Its half a body is held in memory, never written: no temp file while it hangs.
    assert temp_files(local) == []
    assert not hung.release.is_set()
    assert run.stop() == 0
    assert temp_files(local) == []
    assert names(local) == names(good_base)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<html>oops</html>", "not JSON; is it a fastseg or wubloader", id="not json"),
        pytest.param(b'{"hours": []}', "expected a JSON list of names", id="not a list"),
        pytest.param(b'["2026-11-20T09", 7]', "expected a JSON list of names", id="not names"),
    ],
)
def test_broken_listing_is_a_clear_error_and_loses_nothing(
    body, message, stream, tmp_path, make_peer, backfiller
):
    remote = tree(stream, tmp_path / "remote", ALL)
    local = tree(stream, tmp_path / "local", {"source": {2, 3}})
    before = contents(local)
    peer = make_peer(remote, garbage={f"/files/{CHANNEL}/source": body})
    run = backfiller(local, "--node", peer.url, "--metrics-port", "0", "--recent-cutoff", "0",
                     "--backoff", "0.1", "--max-backoff", "0.2")  # fmt: skip
    wait_until(
        lambda: run.metric("fastseg_backfiller_passes_total", outcome="failed") >= 2,
        "two failed passes",
        30,
    )
    assert run.metric("fastseg_backfiller_errors_total", kind="bad_listing") >= 2
    line = run.wait_for_log("pass stopped")
    assert f"/files/{CHANNEL}/source" in line
    assert message in line
    assert contents(local) == before  # nothing lost, nothing added
    assert run.stop() == 0


def test_segment_gone_between_listing_and_fetch_is_counted_and_the_rest_fetched(
    stream, tmp_path, make_peer, backfiller
):
    remote = tree(stream, tmp_path / "remote", ALL)
    segments = sorted(names(remote))
    peer = make_peer(remote, vanished={segments[1]})
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 1, run.log()  # the pass had a failure: a non-zero exit says so
    assert names(local) == set(segments) - {segments[1]}
    assert "answered 404" in run.log()
    assert temp_files(local) == []


def test_a_peer_listing_unsafe_qualities_gets_them_ignored(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    local = tmp_path / "local"
    local.mkdir()
    junk = ["source", ".hidden", "a\\b", "x\ny"]
    hour = "2026-11-20T09"
    peer = make_peer(
        remote,
        garbage={
            f"/files/{CHANNEL}": json.dumps(junk).encode(),
            f"/files/{CHANNEL}/.hidden": json.dumps([hour]).encode(),
        },
    )
    run = backfiller(local, "--node", peer.url, "--metrics-port", "0", "--recent-cutoff", "0")
    wait_until(
        lambda: run.metric("fastseg_backfiller_passes_total", outcome="clean"), "a clean pass", 30
    )
    assert contents(local) == contents(remote)  # the real quality, and nothing else
    asked = [urllib.parse.unquote(p) for p in peer.paths]
    assert f"/files/{CHANNEL}/source" in asked
    chat = f"/files/{CHANNEL}/chat"  # the chat listing is asked for whatever the qualities
    assert not [p for p in asked if p.startswith(f"/files/{CHANNEL}/") and "source" not in p
                and p != chat]  # fmt: skip
    assert run.stop() == 0
