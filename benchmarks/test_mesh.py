"""A mesh of fastseg nodes on loopback, and cutters sharing one PostgreSQL.

* Mesh: N nodes (a restreamer and a backfiller each, as subprocesses on
  127.0.0.1) each start with a random 10-20% of one hour's segments missing
  (tiny real-byte segments, so every hash is checked and disk stays cheap). Every
  backfiller is given every node (and its own name, to skip itself) and runs
  passes (``--run-once``) until every node holds the union. Measured: the wall
  time until then, the bytes each node downloaded against the bytes it lacked
  (the goal: each missing segment fetched once per node), and the listing
  requests the mesh answered per pass.
* Claims: C cutter-like claimers on one PostgreSQL race for the same EDITED
  events with the cutter's claim (``states.claim``); jobs claimed per second, and
  no job claimed twice.

``pytest benchmarks/test_mesh.py --benchmark-enable -s`` runs 2, 4, 8 and 10 nodes
and 1, 2, 4 and 8 claimers; with ``--benchmark-disable`` (CI) a 2-node mesh of a
few segments and 2 claimers run once as a smoke test.
"""

import datetime as dt
import hashlib
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fastseg import content_id, hour_name, segment_name
from tests.servers import ServerProcess, metric

ROOT = Path(__file__).resolve().parents[1]
CHANNEL, QUALITY = "mesh", "source"
HOUR = dt.datetime(2026, 11, 20, 9)
STEP = dt.timedelta(seconds=2)
_FETCHED = re.compile(r"fetched \((\d+) bytes\).*stored meanwhile \((\d+) bytes\)")


def make_segments(count: int, rng: random.Random) -> dict[str, bytes]:
    """``count`` back-to-back 2-second segments of 1-4 KB of random bytes, by name."""
    segments = {}
    for i in range(count):
        data = rng.randbytes(rng.randint(1024, 4096))
        segments[segment_name(HOUR + i * STEP, STEP, "full", content_id(hashlib.sha256(data)))] = (
            data
        )
    return segments


def make_nodes(base: Path, n: int, segments: dict[str, bytes], rng: random.Random):
    """``n`` node directories, each lacking a random 10-20% of ``segments``; what each lacks."""
    names = sorted(segments)
    lacking = [
        set(rng.sample(names, round(len(names) * rng.uniform(0.10, 0.20)))) for _ in range(n)
    ]
    for name in set.intersection(*lacking):
        lacking[0].discard(name)  # the union is the whole hour
    for i in range(n):
        hour_dir = base / f"node{i}" / CHANNEL / QUALITY / hour_name(HOUR)
        hour_dir.mkdir(parents=True)
        for name in names:
            if name not in lacking[i]:
                (hour_dir / name).write_bytes(segments[name])
    return lacking


def held(base: Path, i: int) -> set[str]:
    return set(os.listdir(base / f"node{i}" / CHANNEL / QUALITY / hour_name(HOUR)))


def scrape(server: ServerProcess) -> str:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as resp:
        return resp.read().decode()


def listing_requests(servers) -> float:
    total = 0.0
    for server in servers:
        text = scrape(server)
        for endpoint in ("listings.qualities", "listings.hours", "listings.segment_names",
                         "listings.channels"):  # fmt: skip
            total += metric(text, "fastseg_restreamer_requests_total", endpoint=endpoint,
                            method="GET", status="200")  # fmt: skip
    return total


def _reap(procs) -> None:
    """Never leave a process behind, whatever failed."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def run_mesh(tmp_path: Path, n: int, count: int, seed: int) -> dict:
    """One mesh of ``n`` nodes converging; its figures."""
    rng = random.Random(seed)
    segments = make_segments(count, rng)
    lacking = make_nodes(tmp_path, n, segments, rng)
    servers = []
    try:
        for i in range(n):
            servers.append(ServerProcess(tmp_path / f"node{i}"))
        nodes = [f"--node=node{i}={s.url}" for i, s in enumerate(servers)]
        listed_before = listing_requests(servers)
        downloaded = [0] * n
        passes = 0
        started = time.perf_counter()
        while passes < 5 and any(held(tmp_path, i) != set(segments) for i in range(n)):
            passes += 1
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "services.backfiller",
                        "--base-dir",
                        str(tmp_path / f"node{i}"),
                        "--channels",
                        CHANNEL,
                        "--qualities",
                        QUALITY,
                        *nodes,
                        "--localhost",
                        f"node{i}",
                        "--run-once",
                        "--recent-cutoff",
                        "0",
                        "--log-level",
                        "INFO",
                    ],
                    cwd=ROOT,
                    stderr=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    text=True,
                )  # fmt: skip
                for i in range(n)
            ]
            try:
                for i, proc in enumerate(procs):
                    _, err = proc.communicate(timeout=600)
                    assert proc.returncode == 0, err[-3000:]
                    for stored, duplicate in _FETCHED.findall(err):
                        downloaded[i] += int(stored) + int(duplicate)
            finally:
                _reap(procs)
        took = time.perf_counter() - started
        listed = listing_requests(servers) - listed_before
    finally:
        for server in servers:
            server.stop()
    for i in range(n):
        assert held(tmp_path, i) == set(segments), f"node{i} lacks segments after {passes} passes"
        for name in lacking[i]:
            path = tmp_path / f"node{i}" / CHANNEL / QUALITY / hour_name(HOUR) / name
            assert path.read_bytes() == segments[name]
    needed = [sum(len(segments[name]) for name in lack) for lack in lacking]
    return {
        "nodes": n,
        "seconds": took,
        "passes": passes,
        "needed": sum(needed),
        "downloaded": sum(downloaded),
        "worst_node_ratio": max(d / w for d, w in zip(downloaded, needed, strict=True)),
        "listings_per_pass": listed / passes,
    }


@pytest.mark.timeout(3600)
@pytest.mark.benchmark(group="mesh")
def test_mesh_converges_fetching_each_segment_once(tmp_path, benchmark):
    sizes = (2,) if benchmark.disabled else (2, 4, 8, 10)
    count = 60 if benchmark.disabled else 1800
    rows = []
    for n in sizes:
        figures = run_mesh(tmp_path / f"mesh{n}", n, count, seed=n)
        rows.append(figures)
        # Each missing segment once per node: never more bytes than the node lacked.
        assert figures["downloaded"] == figures["needed"], figures
    print(f"\nmesh of nodes, {count} segments in one hour, each node lacking 10-20%")
    print(f"  {'nodes':>5} {'seconds':>8} {'passes':>6} {'MB needed':>10} {'MB fetched':>10} "
          f"{'worst node':>10} {'listings/pass':>13}")  # fmt: skip
    for r in rows:
        print(f"  {r['nodes']:>5} {r['seconds']:>8.2f} {r['passes']:>6} {r['needed'] / 1e6:>10.2f} "
              f"{r['downloaded'] / 1e6:>10.2f} {r['worst_node_ratio']:>10.2f} "
              f"{r['listings_per_pass']:>13.0f}")  # fmt: skip
    benchmark.extra_info.update(mesh=rows)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)


@pytest.mark.timeout(1800)
@pytest.mark.benchmark(group="mesh")
def test_cutters_claim_each_job_once(pg_dsn, benchmark):
    from services.db import Database, apply_schema, states  # noqa: PLC0415

    counts = (2,) if benchmark.disabled else (1, 2, 4, 8)
    jobs = 40 if benchmark.disabled else 400
    db = Database(pg_dsn, application_name="fastseg-bench")
    rows = []
    try:
        apply_schema(db)
        for cutters in counts:
            db.query("DELETE FROM events")
            for j in range(jobs):
                event = states.add_event(db, f"job {j}")
                states.edit(db, event, video_start=HOUR, video_end=HOUR + STEP,
                            video_title=f"job {j}", video_channel=CHANNEL,
                            upload_location="clips", editor="bench@example.com")  # fmt: skip
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.claimer", pg_dsn, f"c{c}"],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
                for c in range(cutters)
            ]
            claimed = []
            try:
                for proc in procs:  # connected and waiting: process start is not timed
                    assert proc.stdout.readline().strip() == "ready"
                started = time.perf_counter()
                for proc in procs:
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                for proc in procs:
                    out, _ = proc.communicate(timeout=600)
                    assert proc.returncode == 0
                    claimed += out.split()
            finally:
                _reap(procs)
            took = time.perf_counter() - started
            assert len(claimed) == jobs, f"{len(claimed)} claims for {jobs} jobs"
            assert len(set(claimed)) == jobs, "a job was claimed twice"
            left = db.query("SELECT count(*) AS n FROM events WHERE state <> 'DONE'")[0].n
            assert left == 0
            rows.append({"cutters": cutters, "jobs_per_s": jobs / took, "seconds": took})
    finally:
        db.close()
    print(f"\ncutters claiming {jobs} jobs on one PostgreSQL")
    for r in rows:
        print(f"  {r['cutters']:>2} cutters: {r['jobs_per_s']:8.1f} jobs/s ({r['seconds']:.2f} s)")
    benchmark.extra_info.update(claims=rows)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
