"""A realistic segment tree for benchmarks: 2-second segments with the noise of real nodes.

Per hour and quality about 1,800 segments, plus duplicates (a backfilled copy,
sometimes longer), partial and suspect copies, orphaned temp files, holes,
tombstones and ±3 ms of start jitter. Files are empty or sparse (creating a
file here costs about a quarter of a millisecond, writing its bytes far more);
a tree is made once and reused from ``FASTSEG_BENCH_DIR`` (default /var/tmp).

``python -m benchmarks.treegen --hours 48`` makes one by hand and prints its path.
"""

import argparse
import datetime as dt
import hashlib
import os
import random
from pathlib import Path

from fastseg import content_id, hour_name, segment_name, tombstone_path

START = dt.datetime(2026, 11, 20, 0)
QUALITIES = ("source", "480p")
VERSION = 3  # bump when the generator changes, so old trees are not reused


def bench_root() -> Path:
    return Path(os.environ.get("FASTSEG_BENCH_DIR", "/var/tmp/fastseg-bench"))


def _touch(path: str, size: int = 0) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    if size:
        os.ftruncate(fd, size)
    os.close(fd)


def _ident(rng: random.Random) -> str:
    return content_id(hashlib.sha256(rng.randbytes(16)))


def make_hour(hours_path: Path, hour: dt.datetime, rng: random.Random) -> int:
    """Write one hour of noisy 2-second segments; returns the number of files."""
    hour_dir = hours_path / hour_name(hour)
    hour_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    t = hour
    end = hour + dt.timedelta(hours=1)
    while t < end:
        jitter = dt.timedelta(microseconds=rng.randint(-3000, 3000))
        start = max(hour, t + jitter)
        duration = dt.timedelta(seconds=2, milliseconds=rng.choice((0, 0, 0, 2, -2)))
        roll = rng.random()
        if roll < 0.002:  # a hole: nobody has this segment
            t += dt.timedelta(seconds=2)
            continue
        size = rng.randint(900_000, 1_100_000)
        main = segment_name(start, duration, "full", _ident(rng))
        _touch(f"{hour_dir}/{main}", size)
        count += 1
        if roll < 0.03:  # a second full copy from another node, maybe a touch longer
            longer = duration + dt.timedelta(milliseconds=rng.choice((0, 1)))
            _touch(f"{hour_dir}/{segment_name(start, longer, 'full', _ident(rng))}", size)
            count += 1
        elif roll < 0.04:
            kind = "partial" if roll < 0.035 else "suspect"
            _touch(f"{hour_dir}/{segment_name(start, duration, kind, _ident(rng))}", size // 2)
            count += 1
        elif roll < 0.045:  # an orphan from a crash
            _touch(f"{hour_dir}/{segment_name(start, duration, 'temp', 'tmp-' + str(count))}")
            count += 1
        elif roll < 0.046:  # an operator hid a bad copy
            bad = segment_name(start, duration, "full", _ident(rng))
            _touch(f"{hour_dir}/{bad}", size * 2)
            _touch(tombstone_path(f"{hour_dir}/{bad}"))
            count += 2
        t += dt.timedelta(seconds=2)
    # An archived hour was last written long ago; a fresh mtime would make every
    # selection re-read it (see the racy-mtime rule, fastseg.RACY_NS).
    old = hour.replace(tzinfo=dt.UTC).timestamp() + 3600
    os.utime(hour_dir, (old, old))
    return count


def make_tree(hours: int, qualities=QUALITIES, root: Path | None = None) -> Path:
    """``BASE`` holding channel ``bench`` with ``hours`` hours per quality, made once."""
    base = (root or bench_root()) / f"tree-v{VERSION}-{hours}h-{len(qualities)}q"
    done = base / ".complete"
    if done.exists():
        return base
    rng = random.Random(hours)
    for quality in qualities:
        for h in range(hours):
            make_hour(base / "bench" / quality, START + dt.timedelta(hours=h), rng)
    done.touch()
    return base


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=48)
    args = parser.parse_args(argv)
    print(make_tree(args.hours))


if __name__ == "__main__":
    main()
