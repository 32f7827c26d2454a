"""Backfiller speed against rsync in daemon mode, both on loopback, in one run.

* Replicate: a two-hour, two-quality tree of 7,200 segments with real bytes
  (random, 100-300 KB each so that disk time stays sane on this machine; real
  2-second segments are 0.4-1.5 MB, which only makes per-file costs smaller)
  from one restreamer into an empty directory, every file hash-verified by the
  backfiller, against ``rsync -a rsync://...`` of the same tree. Goal: <= 1.2x.
* No-op pass: the 48-hour, two-quality tree of benchmarks/treegen.py, held by
  both sides already, against rsync's pass over the same complete tree. Goal:
  no slower than rsync.

Both sides are whole commands (process start to exit), the servers already
running; the sides alternate and each side's best round counts. Run with
``pytest benchmarks/test_backfill_bench.py --benchmark-enable -s``; with
``--benchmark-disable`` (CI) each side runs once and no goal is checked.
"""

import datetime as dt
import hashlib
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.treegen import START, bench_root, make_tree
from fastseg import content_id, hour_name, segment_name
from tests.servers import ServerProcess
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
QUALITIES = ("source", "480p")
SEGMENTS_PER_HOUR = 1800
SMOKE_SEGMENTS_PER_HOUR = 50  # --benchmark-disable (CI's smoke run): the same code, 1.4 GB less
MIN_SIZE, MAX_SIZE = 100_000, 300_000
VERSION = 1  # bump when the replicate tree changes


def replicate_tree(per_hour: int = SEGMENTS_PER_HOUR) -> Path:
    """BASE/bench/QUALITY/HOUR: 2 hours x 2 qualities x ``per_hour`` real-byte files, made once."""
    suffix = "" if per_hour == SEGMENTS_PER_HOUR else f"-{per_hour}"
    base = bench_root() / f"replicate-v{VERSION}{suffix}"
    if (base / ".complete").exists():
        return base
    shutil.rmtree(base, ignore_errors=True)
    rng = random.Random(VERSION)
    step = dt.timedelta(seconds=2)
    for quality in QUALITIES:
        for h in range(2):
            hour = START + dt.timedelta(hours=h)
            hour_dir = base / "bench" / quality / hour_name(hour)
            hour_dir.mkdir(parents=True)
            for i in range(per_hour):
                data = rng.randbytes(rng.randint(MIN_SIZE, MAX_SIZE))
                name = segment_name(hour + i * step, step, "full", content_id(data))
                (hour_dir / name).write_bytes(data)
    (base / ".complete").touch()
    return base


def listing(base: Path) -> dict[str, int]:
    """Every segment file under ``base`` with its size (dot files left out)."""
    found = {}
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                path = os.path.join(root, name)
                found[os.path.relpath(path, base)] = os.path.getsize(path)
    return found


class RsyncDaemon:
    """``rsync --daemon --no-detach`` on 127.0.0.1 serving ``base`` as module ``bench``."""

    def __init__(self, base: Path, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        conf = workdir / "rsyncd.conf"
        conf.write_text(
            f"use chroot = no\nuid = root\ngid = root\npid file = {workdir}/rsyncd.pid\n"
            f"log file = {workdir}/rsyncd.log\n[bench]\npath = {base}\nread only = yes\n"
        )
        self.proc = subprocess.Popen(
            ["rsync", "--daemon", "--no-detach", "--address", "127.0.0.1",
             "--port", str(self.port), "--config", str(conf)],
        )  # fmt: skip
        wait_until(
            lambda: (
                subprocess.run(
                    ["rsync", f"rsync://127.0.0.1:{self.port}/"], capture_output=True
                ).returncode
                == 0
            ),
            "the rsync daemon to start",
            timeout=10,
        )
        self.url = f"rsync://127.0.0.1:{self.port}/bench/"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, user+system CPU seconds) of a command run to completion; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, f"{cmd[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def backfill_cmd(base: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "services.backfiller", "--base-dir", str(base),
        "--channels", "bench", "--qualities", ",".join(QUALITIES), "--node", url,
        "--run-once", "--recent-cutoff", "0", "--log-level", "WARNING", *extra,
    ]  # fmt: skip


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<48} {value}")


def compare(rounds: int, sides: dict, setup) -> dict[str, tuple[float, float]]:
    """Each side's best (wall, cpu) over ``rounds``, sides alternating, ``setup()`` before each."""
    best = {name: (float("inf"), 0.0) for name in sides}
    for _ in range(rounds):
        for name, cmd in sides.items():
            setup()
            wall, cpu = timed(cmd)
            if wall < best[name][0]:
                best[name] = (wall, cpu)
    return best


@pytest.mark.timeout(1800)
@pytest.mark.benchmark(group="backfill")
def test_replicate_two_hours_against_rsync(tmp_path, benchmark):
    """Replicate 7,200 real-byte segments from one peer: backfiller vs rsync daemon, wall time."""
    per_hour = SMOKE_SEGMENTS_PER_HOUR if benchmark.disabled else SEGMENTS_PER_HOUR
    source = replicate_tree(per_hour)
    want = listing(source)
    assert len(want) == len(QUALITIES) * 2 * per_hour
    dest = bench_root() / "replicate-dest"
    server = ServerProcess(source)
    rsyncd = RsyncDaemon(source, tmp_path / "rsyncd")
    try:

        def empty_dest():
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            os.sync()  # the last round's writes must not be flushed during this one

        sides = {
            "backfiller": backfill_cmd(dest, server.url),  # default --concurrency (5)
            "rsync": ["rsync", "-a", rsyncd.url, f"{dest}/"],
        }
        rounds = 1 if benchmark.disabled else 2
        best = {}
        for name, cmd in sides.items():  # the first, checked round of each side
            empty_dest()
            best[name] = timed(cmd)
            got = listing(dest)
            assert got == want, f"{name} copied {len(got)} files, not the {len(want)} wanted"
            if name == "backfiller":
                # Spot-check the bytes the backfiller verified: names are their sha256.
                for rel in random.Random(0).sample(sorted(want), 50):
                    data = (dest / rel).read_bytes()
                    assert content_id(hashlib.sha256(data)) in rel
        if rounds > 1:
            more = compare(rounds - 1, sides, empty_dest)
            best = {n: min(best[n], more[n]) for n in sides}
    finally:
        server.stop()
        rsyncd.stop()
        shutil.rmtree(dest, ignore_errors=True)
    ratio = best["backfiller"][0] / best["rsync"][0]
    size = sum(want.values())
    report(
        f"replicate {len(want)} files, {size / 1e6:.0f} MB (best of {rounds})",
        [
            ("backfiller wall s", f"{best['backfiller'][0]:8.2f}"),
            ("rsync wall s", f"{best['rsync'][0]:8.2f}"),
            ("backfiller client CPU s", f"{best['backfiller'][1]:8.2f}"),
            ("rsync client CPU s", f"{best['rsync'][1]:8.2f}"),
            ("wall ratio backfiller / rsync (goal <= 1.2)", f"{ratio:8.2f}"),
        ],
    )
    benchmark.extra_info.update(
        files=len(want), bytes=size, ratio=ratio,
        backfiller_s=best["backfiller"][0], rsync_s=best["rsync"][0],
    )  # fmt: skip
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if not benchmark.disabled:
        assert ratio <= 1.2, f"replicating took {ratio:.2f}x rsync's wall time"


@pytest.mark.timeout(1800)
@pytest.mark.benchmark(group="backfill")
def test_noop_pass_48h_against_rsync(tmp_path, benchmark):
    """A pass over a complete 48-hour, two-quality tree: backfiller vs rsync daemon, wall time."""
    tree = make_tree(48)
    before = listing(tree)
    server = ServerProcess(tree)
    rsyncd = RsyncDaemon(tree, tmp_path / "rsyncd")
    try:
        # Both sides hold everything already: the peer's tree is the local one.
        sides = {
            "backfiller": backfill_cmd(tree, server.url),
            "rsync": ["rsync", "-a", rsyncd.url, f"{tree}/"],
        }
        rounds = 1 if benchmark.disabled else 5
        best = compare(rounds, sides, lambda: None)
        assert listing(tree) == before, "a no-op pass changed the tree"
    finally:
        server.stop()
        rsyncd.stop()
    ratio = best["backfiller"][0] / best["rsync"][0]
    report(
        f"no-op pass over {len(before)} files (best of {rounds})",
        [
            ("backfiller wall s", f"{best['backfiller'][0]:8.2f}"),
            ("rsync wall s", f"{best['rsync'][0]:8.2f}"),
            ("backfiller client CPU s", f"{best['backfiller'][1]:8.2f}"),
            ("rsync client CPU s", f"{best['rsync'][1]:8.2f}"),
            ("wall ratio backfiller / rsync (goal <= 1)", f"{ratio:8.2f}"),
        ],
    )
    benchmark.extra_info.update(files=len(before), ratio=ratio)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if not benchmark.disabled:
        assert ratio <= 1.0, f"a no-op pass took {ratio:.2f}x rsync's wall time"
