"""``fastseg_backfiller_pass_age_seconds``: how long since each peer's last finished pass."""

from tests.backfiller.trees import tree
from tests.waiting import wait_until


def test_a_reachable_peer_has_a_younger_pass_than_one_that_is_down(
    stream, tmp_path, make_peer, backfiller
):
    up = make_peer(tree(stream, tmp_path / "remote", {"source": {3}}))
    down = make_peer(tmp_path / "nothing")
    down_url = down.url
    down.stop()  # nothing listens there any more
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(local, "--node", f"up={up.url}", "--node", f"down={down_url}",
                     "--recent-cutoff", "0", "--pass-interval", "600",
                     "--metrics-port", "0")  # fmt: skip
    wait_until(lambda: run.metric("fastseg_backfiller_passes_total", outcome="clean") >= 1
               and run.metric("fastseg_backfiller_passes_total", outcome="failed") >= 1,
               "a clean pass over one peer and a failed one over the other")  # fmt: skip
    first = run.metrics()
    ages = {}
    for line in first.splitlines():
        if line.startswith("fastseg_backfiller_pass_age_seconds{"):
            peer = line.split('peer="')[1].split('"')[0]
            ages[peer] = float(line.rsplit(" ", 1)[1])
    assert set(ages) == {"up", "down"}, first
    # Both count from their worker's start; only the reachable peer's finished a pass since.
    assert ages["up"] < ages["down"]
    wait_until(lambda: run.metric("fastseg_backfiller_pass_age_seconds", peer="down")
               > ages["down"], "the unreachable peer's age growing")  # fmt: skip
