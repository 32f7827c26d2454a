"""Three real restreamers over trees with different holes: one pass each gives all the union."""

import pytest

from tests.backfiller.trees import contents, temp_files, tree

# Per node, per quality, the segments (0-9) it lacks. Node c has no "low" at all, and
# node b lacks all of hour 09 of "source" (segments 0-3), so hours differ by quality.
HOLES = {
    "a": {"source": {1, 2}, "low": {7}},
    "b": {"source": {0, 1, 2, 3, 8}, "low": {0, 9}},
    "c": {"source": {5, 6, 9}},
}


@pytest.mark.slow
def test_three_nodes_converge_to_the_union(stream, tmp_path, make_restreamer, backfiller):
    bases = {node: tree(stream, tmp_path / node, holes) for node, holes in HOLES.items()}
    union = {}
    for base in bases.values():
        union.update(contents(base))
    assert len(union) == 20  # every segment of both qualities is held by some node
    servers = {node: make_restreamer(base) for node, base in bases.items()}
    nodes = [f"--node={node}={server.url}" for node, server in servers.items()]

    # Every node is given all three URLs and its own name, so it must skip itself.
    runs = {
        node: backfiller(base, *nodes, "--localhost", node, "--run-once", "--recent-cutoff", "0")
        for node, base in bases.items()
    }
    for node, run in runs.items():
        assert run.wait(60) == 0, run.log()
        peers = [line for line in run.lines if "backfilling from peer" in line]
        assert len(peers) == 2, run.log()
        assert not any(f"peer {node!r}" in line for line in peers), run.log()

    for node, base in bases.items():
        got = contents(base)
        assert got.keys() == union.keys(), f"node {node} differs from the union"
        assert all(got[path] == union[path] for path in union), f"node {node} has other bytes"
        assert temp_files(base) == []
