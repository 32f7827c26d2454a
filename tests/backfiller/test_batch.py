"""The batch route between fastseg nodes, and one request per segment with other peers."""

import http.client
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fastseg import tombstone_path
from tests.backfiller.trees import CHANNEL, contents, temp_files, tree
from tests.servers import metric


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_route_frames_each_segment_and_says_which_are_missing(
    stream, tmp_path, make_restreamer
):
    base = tree(stream, tmp_path / "peer", {"source": set()})
    files = sorted(p for p in (base / CHANNEL / "source").rglob("*.ts"))
    hour_dir = files[0].parent
    in_hour = sorted(p for p in files if p.parent == hour_dir)
    hidden = in_hour[1]
    Path(tombstone_path(str(hidden))).touch()
    server = make_restreamer(base)
    names = [in_hour[0].name, "00:00.5-2-full-" + "A" * 43 + ".ts", hidden.name, in_hour[2].name]
    url = f"{server.url}/batch/{CHANNEL}/source/{hour_dir.name}"
    status, body = post(url, json.dumps(names).encode())
    assert status == 200
    expected = b""
    for name in names:
        path = hour_dir / name
        if path.exists() and path != hidden:
            expected += f"{name} {path.stat().st_size}\n".encode() + path.read_bytes()
        else:
            expected += f"{name} -\n".encode()
    assert body == expected

    for bad in (b"not json", b"[]", b'{"a": 1}', json.dumps(["x"] * 201).encode(),
                json.dumps([f"{in_hour[0].name} 9\nx"]).encode()):  # fmt: skip
        status, body = post(url, bad)
        assert status == 400
        assert b"JSON list of 1 to 200 segment names" in body


def test_the_route_refuses_a_long_body_before_reading_it(stream, tmp_path, make_restreamer):
    base = tree(stream, tmp_path / "peer", {"source": set()})
    hour = sorted(p.name for p in (base / CHANNEL / "source").iterdir())[0]
    server = make_restreamer(base)
    url = f"{server.url}/batch/{CHANNEL}/source/{hour}"
    status, body = post(url, json.dumps(["x" * 100] * 1000).encode())
    assert status == 413
    assert b"more than this route's limit of 65536 bytes: ask for at most 200" in body
    host, port = server.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", url.split(port, 1)[1], body=iter([b'["x"]']), encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 411
    assert b"with a Content-Length" in resp.read()
    conn.close()


@pytest.mark.parametrize("fastseg_peer", [True, False], ids=["fastseg peer", "wubloader-like"])
def test_batches_with_fastseg_peers_one_by_one_with_others(
    stream, tmp_path, make_restreamer, make_peer, backfiller, fastseg_peer
):
    remote = tree(stream, tmp_path / "remote", {"source": set()})
    peer = make_restreamer(remote) if fastseg_peer else make_peer(remote)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 0, run.log()
    assert contents(local) == contents(remote)
    assert temp_files(local) == []
    if fastseg_peer:
        with urllib.request.urlopen(f"{peer.url}/metrics", timeout=30) as resp:
            text = resp.read().decode()
        assert metric(text, "fastseg_restreamer_requests_total", endpoint="batch.batch") >= 1
        assert metric(text, "fastseg_restreamer_requests_total", endpoint="segments.segment") == 0
        assert "no batch route" not in run.log()
    else:
        assert "no batch route" in run.log()


def test_a_busy_batch_route_is_asked_again_and_its_segments_fetched_one_by_one(
    stream, tmp_path, make_peer, backfiller
):
    """A 429 from /batch means busy now, not "no such route": later batches are still tried."""
    remote = tree(stream, tmp_path / "remote", {"source": set()})
    peer = make_peer(remote, busy_batches=True)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0",
                     "--concurrency", "1")  # fmt: skip
    assert run.wait(60) == 0, run.log()
    assert contents(local) == contents(remote)
    assert "no batch route" not in run.log()
    batches = [p for p in peer.posts if p.startswith("/batch/")]
    assert len(batches) >= 2  # asked again after the first 429


def test_corrupt_bytes_in_a_batch_are_discarded_and_the_rest_stored(
    stream, tmp_path, make_restreamer, backfiller
):
    remote = tree(stream, tmp_path / "remote", {"source": set()})
    files = sorted((remote / CHANNEL / "source").rglob("*.ts"))
    bad = files[::3]
    for path in bad:  # same length, other bytes: only the hash can tell
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    peer = make_restreamer(remote)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert run.wait(60) == 1, run.log()  # the pass had errors
    got = {p.rsplit("/", 1)[1] for p in contents(local)}
    assert got == {p.name for p in files} - {p.name for p in bad}
    assert temp_files(local) == []
    log = run.log()
    assert log.count("not the name's: discarded") == len(bad)
    assert f"/batch/{CHANNEL}/source/" in log  # the message names the batch and the segment
    assert "no batch route" not in log
