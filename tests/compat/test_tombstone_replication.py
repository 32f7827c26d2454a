"""Tombstones travel between nodes, both ways, as wubloader's backfiller copies them.

Two real restreamer + backfiller pairs, each trusting the other with tombstones
(``--trust-tombstones-from``). A node copies each tombstone a peer lists
(``?tombstones=true``) that it lacks, as an empty file, for a segment it holds
(one for a segment it lacks hides nothing, and is not copied); it never fetches
the segment a tombstone hides and never deletes its own copy of it.
"""

import os

import pytest
import requests

from services.tombstone import check, hide
from tests.backfiller.conftest import backfiller, make_restreamer, stream  # noqa: F401
from tests.backfiller.trees import CHANNEL, tree

HOURS = {"a": {"source": {8}}, "b": {"source": {2}}}  # each lacks one segment the other has


def hour_files(base, hour: str) -> set[str]:
    hour_dir = base / CHANNEL / "source" / hour
    return set(os.listdir(hour_dir)) if hour_dir.is_dir() else set()


def names(base) -> dict[str, list[str]]:
    """Every .ts name per hour, in order, on one node."""
    quality = base / CHANNEL / "source"
    return {h: sorted(n for n in os.listdir(quality / h) if n.endswith(".ts"))
            for h in sorted(os.listdir(quality))}  # fmt: skip


def backfill_both(bases, servers, backfiller):  # noqa: F811
    runs = [
        backfiller(
            bases[node],
            f"--node={other}={servers[other].url}",
            "--localhost",
            node,
            "--trust-tombstones-from",
            other,
            "--run-once",
            "--recent-cutoff",
            "0",
        )  # fmt: skip
        for node, other in (("a", "b"), ("b", "a"))
    ]
    for run in runs:
        assert run.wait(60) == 0, run.log()
    return runs


@pytest.mark.slow
def test_tombstones_replicate_both_ways(stream, tmp_path, make_restreamer, backfiller):  # noqa: F811
    bases = {node: tree(stream, tmp_path / node, holes) for node, holes in HOURS.items()}
    a_names, b_names = names(bases["a"]), names(bases["b"])
    hour09, hour10 = sorted(a_names)
    # a holds segment 2 (hour 09) that b lacks, and hides it before b ever fetched it
    only_a = sorted(set(a_names[hour09]) - set(b_names[hour09]))[0]
    hide(check(str(bases["a"] / CHANNEL / "source" / hour09 / only_a)))
    servers = {node: make_restreamer(base) for node, base in bases.items()}

    backfill_both(bases, servers, backfiller)
    stone = f"{only_a[:-3]}.tombstone"
    assert only_a not in hour_files(bases["b"], hour09)  # never fetched: a lists it no more
    assert stone not in hour_files(bases["b"], hour09)  # nor its tombstone: it hides nothing

    # after the first pass each node hides one segment both hold: the other follows
    shared = sorted(set(names(bases["a"])[hour10]) & set(names(bases["b"])[hour10]))
    by_a, by_b = shared[0], shared[1]
    hide(check(str(bases["a"] / CHANNEL / "source" / hour10 / by_a)))
    hide(check(str(bases["b"] / CHANNEL / "source" / hour10 / by_b)))
    runs = backfill_both(bases, servers, backfiller)
    assert all("1 tombstones copied" in run.log() for run in runs), [r.log() for r in runs]
    for node in ("a", "b"):
        files = hour_files(bases[node], hour10)
        assert {f"{by_a[:-3]}.tombstone", f"{by_b[:-3]}.tombstone"} <= files
        for stone in (f"{by_a[:-3]}.tombstone", f"{by_b[:-3]}.tombstone"):
            assert os.path.getsize(bases[node] / CHANNEL / "source" / hour10 / stone) == 0
        assert {by_a, by_b} <= files  # the segments are kept, only hidden
        listed = requests.get(f"{servers[node].url}/files/{CHANNEL}/source/{hour10}",
                              timeout=30).json()  # fmt: skip
        assert by_a not in listed
        assert by_b not in listed
        for name in (by_a, by_b):
            url = f"{servers[node].url}/segments/{CHANNEL}/source/{hour10}/{name}"
            assert requests.get(url, timeout=30).status_code == 404

    # a third pass has nothing left to copy
    runs = backfill_both(bases, servers, backfiller)
    assert all("0 fetched (0 bytes), 0 failed, 0 tombstones copied" in r.log() for r in runs)
