"""The CI speed gate's backfill part: replicating from a peer against an rsync daemon.

The README's replicate figures (``benchmarks/test_backfill_bench.py``: 7,200
segments) take minutes; this gate replicates a smaller tree of the same kind
(2 hours x 2 qualities x ``PER_HOUR`` real-byte segments, 100-300 KB each) so
that it takes well under a minute. Both sides are whole commands as a user runs
them, the servers already running: ``fastseg backfiller --run-once`` against a
restreamer, and ``rsync -a`` against ``rsync --daemon``, into an emptied
directory (synced first, so that one round's writes are not flushed during the
next). The sides alternate round by round and each keeps its best wall time and
its best client CPU time (user + system of the command and its children): load
from other processes only ever makes a round slower, and alternating makes a
slow stretch of the machine hit both sides alike.

On a tree this small the backfiller's interpreter start (about 0.2 s of CPU,
mostly imports) weighs more than on the full tree; the README gives both.
"""

import os
import shutil

import pytest

from benchmarks.gate import Claim, compiled_loaded  # noqa: F401 (an autouse fixture)
from benchmarks.test_backfill_bench import (
    QUALITIES,
    RsyncDaemon,
    backfill_cmd,
    listing,
    replicate_tree,
    timed,
)
from benchmarks.treegen import bench_root
from tests.servers import ServerProcess

pytestmark = pytest.mark.gate

PER_HOUR = 450  # 1,800 files, about 360 MB
ROUNDS = 5  # the best of 5: the rsync side alone varied 1.6-2.2 s of CPU at best of 3

# The README's backfill rows, as the ratios this gate checks (keep the two in step).
CLAIMS = {
    # On a tree this small the backfiller's fixed costs (its interpreter's start,
    # sha256) weigh more than on the README's full tree, and how much rsync pays for
    # creating files depends on what the disk deleted lately: the shared 2-core
    # machine measured 1.05-2.01 (wall) and 1.08-2.39 (CPU) at load 0.4-6 on the
    # current code. The ceilings keep it green there and still fail the 3-4x of a
    # loop stalled by the disk; the full tree's figures are the README's table.
    "wall": Claim("replicate 1,800 files: backfiller / rsync wall", 1.6, 0.6, higher=False),
    "cpu": Claim("replicate 1,800 files: backfiller / rsync client CPU", 1.9, 0.5, higher=False),
}


@pytest.mark.timeout(300)
def test_replicate_against_rsync(tmp_path):
    source = replicate_tree(PER_HOUR)
    want = listing(source)
    assert len(want) == len(QUALITIES) * 2 * PER_HOUR
    dest = bench_root() / "gate-replicate-dest"
    server = ServerProcess(source)
    rsyncd = RsyncDaemon(source, tmp_path / "rsyncd")
    sides = {
        "backfiller": backfill_cmd(dest, server.url),
        "rsync": ["rsync", "-a", rsyncd.url, f"{dest}/"],
    }
    wall = {name: float("inf") for name in sides}
    cpu = {name: float("inf") for name in sides}
    try:
        for _ in range(ROUNDS):
            for name, cmd in sides.items():
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir(parents=True)
                os.sync()
                took, used = timed(cmd)
                got = listing(dest)
                assert got == want, f"{name} copied {len(got)} files, not the {len(want)} wanted"
                wall[name] = min(wall[name], took)
                cpu[name] = min(cpu[name], used)
    finally:
        server.stop()
        rsyncd.stop()
        shutil.rmtree(dest, ignore_errors=True)
    load = os.getloadavg()[0]
    failures = []
    for key, times in (("wall", wall), ("cpu", cpu)):
        detail = f" ({times['backfiller']:.2f} s vs {times['rsync']:.2f} s, load {load:.1f})"
        try:  # both figures printed, whichever fails
            CLAIMS[key].check(times["backfiller"] / times["rsync"], detail)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)
