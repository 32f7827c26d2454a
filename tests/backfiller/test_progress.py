"""A long backfill pass says how far it has got, every few seconds, not only at its end."""

import re

from tests.backfiller.test_faults import ALL, names
from tests.backfiller.trees import tree
from tests.waiting import wait_until

PROGRESS = re.compile(
    r"pass in progress: (\d+) of (\d+) missing segments fetched \(([\d.]+ k?B)\), "
    r"([\d.]+) segments/s, ([\d.]+ k?M?B)/s, (about \d+ s left|no estimate yet)"
)


def test_a_slow_pass_logs_its_progress(stream, tmp_path, make_peer, backfiller):
    remote = tree(stream, tmp_path / "remote", ALL)
    segments = names(remote)
    peer = make_peer(remote, slow=0.3)  # one at a time: several seconds for the pass
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", peer.url, "--recent-cutoff", "0", "--concurrency", "1",
                     "--progress-interval", "1", "--run-once")  # fmt: skip
    assert run.wait(120) == 0, run.log()
    log = run.log()
    assert names(local) == segments
    found = [m.groups() for m in PROGRESS.finditer(log)]
    assert len(found) >= 2, log
    done = [int(g[0]) for g in found]
    assert done == sorted(done)
    assert all(int(g[0]) <= int(g[1]) <= len(segments) for g in found), log
    assert any(g[5].startswith("about") for g in found), log
    wait_until(lambda: "pass clean" in run.log(), "the end of the pass", timeout=5)
