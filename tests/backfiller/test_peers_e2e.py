"""Interop and peer sources end to end: the exact routes asked for, --run-once, files, the db."""

import shutil

import pytest

from tests.backfiller.trees import CHANNEL, contents, tree
from tests.waiting import wait_until

BOTH = {"source": {3}, "low": {6}}


def test_requests_are_exactly_the_route_shapes_of_design_4(stream, tmp_path, make_peer,
                                                          backfiller):  # fmt: skip
    remote = tree(stream, tmp_path / "remote", BOTH)
    peer = make_peer(remote)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 0, run.log()
    expected = {f"/files/{CHANNEL}", f"/files/{CHANNEL}/chat"}  # the peer's chat: none here
    for path in contents(remote):  # CH/Q/HOUR/NAME
        channel, quality, hour, name = path.split("/")
        expected |= {f"/files/{channel}/{quality}",
                     f"/files/{channel}/{quality}/{hour}?tombstones=true",
                     f"/segments/{channel}/{quality}/{hour}/{name}"}  # fmt: skip
    assert set(peer.paths) == expected
    assert len(peer.paths) == len(expected)  # nothing asked twice in one pass
    assert contents(local) == contents(remote)


def test_run_once_with_nothing_missing_fetches_nothing_and_exits_0(
    stream, tmp_path, make_peer, backfiller
):
    remote = tree(stream, tmp_path / "remote", BOTH)
    local = tmp_path / "local"
    shutil.copytree(remote, local)
    peer = make_peer(remote)
    run = backfiller(local, "--node", peer.url, "--qualities", "source,low", "--run-once",
                     "--recent-cutoff", "0")  # fmt: skip
    assert run.wait(60) == 0, run.log()
    assert not [p for p in peer.paths if p.startswith("/segments/")]
    assert "0 missing, 0 fetched" in run.log()
    assert "run once: every pass was clean" in run.log()


def test_run_once_exits_1_when_a_peer_is_down(tmp_path, make_peer, backfiller):
    peer = make_peer(tmp_path)
    url = peer.url
    peer.stop()  # nothing listens there any more
    run = backfiller(tmp_path, "--node", url, "--run-once")
    assert run.wait(60) == 1, run.log()
    assert "pass stopped" in run.log()
    assert "did not finish cleanly" in run.log()


@pytest.mark.slow
def test_node_file_is_read_again_and_new_peers_are_used(stream, tmp_path, make_peer,
                                                        backfiller):  # fmt: skip
    first = make_peer(tree(stream, tmp_path / "first", {"source": set()}))
    second = make_peer(tree(stream, tmp_path / "second", {"low": set()}))
    nodes = tmp_path / "nodes"
    nodes.write_text(f"# the peers\nfirst {first.url}\n")
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node-file", str(nodes), "--node-refresh", "0.2",
                     "--recent-cutoff", "0")  # fmt: skip
    want_first = set(contents(tmp_path / "first"))
    wait_until(lambda: set(contents(local)) == want_first, "the first peer's segments", 30)
    nodes.write_text(f"first {first.url}\nsecond {second.url}  # added later\n")
    want = want_first | set(contents(tmp_path / "second"))
    wait_until(lambda: set(contents(local)) == want, "the second peer's segments", 30)
    nodes.write_text("this-node http://127.0.0.1:9\n")  # every peer removed; ourselves skipped
    run.wait_for_log(r"peer 'second' \(.*\) removed")
    assert run.stop() == 0


@pytest.mark.slow
def test_peers_from_the_nodes_table(stream, tmp_path, make_restreamer, backfiller, db, pg_dsn):
    remote = tree(stream, tmp_path / "remote", BOTH)
    server = make_restreamer(remote)
    db.query(
        "INSERT INTO nodes (name, url, backfill_from) VALUES"
        " ('this-node', 'http://127.0.0.1:9', true),"  # ourselves: never asked
        " ('good', %s, true),"
        " ('excluded', 'http://127.0.0.1:9', false)",  # backfill_from off: never asked
        (server.url,),
    )
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--db", pg_dsn, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 0, run.log()
    assert contents(local) == contents(remote)
    started = [line for line in run.lines if "backfilling from peer" in line]
    assert len(started) == 1, run.log()
    assert "'good'" in started[0]
