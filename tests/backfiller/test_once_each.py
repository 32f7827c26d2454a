"""A segment that several peers hold is downloaded once, from one of them, not from each."""

import urllib.request

from tests.backfiller.trees import contents, temp_files, tree
from tests.servers import metric


def served_bytes(server) -> float:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as resp:
        return metric(resp.read().decode(), "fastseg_restreamer_segment_bytes_total")


def test_segments_held_by_three_peers_are_fetched_once(stream, tmp_path, make_restreamer,
                                                       backfiller):  # fmt: skip
    bases = [tree(stream, tmp_path / f"peer{i}", {"source": set()}) for i in range(3)]
    servers = [make_restreamer(base) for base in bases]
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, *(f"--node=p{i}={s.url}" for i, s in enumerate(servers)),
                     "--run-once", "--recent-cutoff", "0")  # fmt: skip
    assert run.wait(60) == 0, run.log()
    want = contents(bases[0])
    assert contents(local) == want
    assert temp_files(local) == []
    # Every byte the peers sent was stored: nothing fetched twice.
    assert sum(served_bytes(s) for s in servers) == sum(len(b) for b in want.values())
    assert "fetched but stored meanwhile (0 bytes)" in run.log()
