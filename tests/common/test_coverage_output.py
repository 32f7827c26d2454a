"""The coverage map's output, byte for byte, against what it was before fastseg reduced hours.

``coverage_golden/`` holds the SVG, JSON and text that the map, ``fastseg coverage``
and the restreamer's routes gave for the archive ``build_archive`` makes (written
by the code that reduced each hour in Python from ``best_segments_by_start``).
The reduction now runs inside fastseg (``fastseg.hour_coverage``, both twins);
every output must stay the same bytes. To rewrite the files after a deliberate
change of the output: ``python -m tests.common.test_coverage_output``.
"""

import contextlib
import datetime as dt
import io
import os
import sys
import tempfile
from pathlib import Path

import prometheus_client

import fastseg
from fastseg import hour_name, segment_name
from services import coverage as coverage_command
from services.archive import coverage
from services.restreamer.app import create_app
from tests.fastseg.trees import fake_id, put

GOLDEN = Path(__file__).with_name("coverage_golden")
H16 = dt.datetime(2026, 11, 27, 16)
S = dt.timedelta(seconds=1)
MS = dt.timedelta(milliseconds=1)


def run(hours: Path, start: dt.datetime, count: int, skip=(), jitter_ms=0, **kw) -> None:
    """``count`` 2-second segments from ``start``, leaving out the indices in ``skip``."""
    for i in range(count):
        if i not in skip:
            wobble = (i % 3 - 1) * jitter_ms * MS  # -j, 0, +j: within FUDGE if j <= 10
            put(hours, start + 2 * i * S + wobble, **kw)


def build_archive(base: Path) -> None:
    """Two qualities over six hours: holes, jitter, duplicates, partials, long segments, junk."""
    source = base / "ch" / "source"
    run(source, H16, 300, skip={20, 21, 22, 150}, jitter_ms=4)  # 16:00-16:10, two holes
    put(source, H16 + 10 * S, seconds=2.004)  # a longer full copy of one start wins
    put(source, H16 + 12 * S, type="partial", size=5000)  # under a full copy: not partial
    put(source, H16 + 44 * S, type="suspect")  # fills the 16:00:44 hole, but only suspect
    run(source, H16 + 600 * S, 5, type="suspect")  # 16:10:00-16:10:10 suspect only
    run(source, H16 + 610 * S, 5, type="partial", seconds=2.5)  # overlapping partials
    run(source, H16 + 3590 * S, 15)  # 16:59:50 across the hour to 17:00:20
    put(source, H16 + 3620 * S + 25 * MS, seconds=3)  # starts 25 ms late: a hole before it
    put(source, H16 + 3640 * S, seconds=1200)  # 17:00:40, 20 minutes long (past 2**30 µs)
    put(source, H16 + 4840 * S, seconds=1500, type="partial")  # 17:20:40 into the 18:00 hour
    put(source, H16 + 7500 * S, seconds=0.5)  # 18:05:00, alone in its hour
    (source / hour_name(H16 + 3 * 3600 * S)).mkdir()  # 19:00, an empty hour
    h20 = H16 + 4 * 3600 * S
    run(source, h20, 30)
    hidden = put(source, h20 + 60 * S, seconds=40)  # tombstoned: 20:01:00 stays a hole
    hidden.with_name(hidden.stem + ".tombstone").touch()
    put(source, h20 + 100 * S, type="temp")  # never chosen
    put(source, h20 + 59 * S, seconds=6)  # overlaps the end of 20:00:58 by a second
    (source / hour_name(h20) / "notes.txt").write_text("not a segment")
    written_long = segment_name(h20 + 200 * S, 2 * S, "full", fake_id("long")).replace(
        "-2-", "-2.000-"
    )
    (source / hour_name(h20) / written_long).touch()
    low = base / "ch" / "low"
    run(low, H16 + 3400 * S, 200, skip=set(range(50, 80)) | {100})  # 16:56:40 to 17:03:20
    run(low, H16 + 4 * 3600 * S + 3420 * S, 90, jitter_ms=12)  # 20:57 to 21:00: jittery
    (base / "other").mkdir()  # no qualities: not a channel


def cli(*args: str) -> bytes:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert coverage_command.main(list(args)) == 0
    return out.getvalue().encode()


def outputs(base: Path) -> dict[str, bytes]:
    """Every output of the map over ``base``, by golden file name, from cold caches."""
    fastseg.clear_cache()
    coverage.clear_cache()
    got: dict[str, bytes] = {}
    svg = base.parent / "map.svg"
    got["report.txt"] = cli("--base-dir", str(base), "--channel", "ch", "--svg", str(svg))
    got["map.svg"] = svg.read_bytes()
    got["report.json"] = cli("--base-dir", str(base), "--json")
    got["report-low.txt"] = cli("--base-dir", str(base), "--quality", "low")
    app = create_app(
        {"BASE_DIR": str(base), "METRICS_REGISTRY": prometheus_client.CollectorRegistry()}
    )
    client = app.test_client()
    for name, url in [
        ("route.json", "/coverage/ch.json"),
        ("route.svg", "/coverage/ch.svg"),
        ("route-low.svg", "/coverage/ch.svg?quality=low"),
        ("route-days.json", "/coverage/ch.json?start=2026-11-27T00:00:00&end=2026-11-28T06:30:00"),
        ("route-days.svg", "/coverage/ch.svg?start=2026-11-27T00:00:00&end=2026-11-28T06:30:00"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.data)
        got[name] = response.data
    return got


def test_every_output_is_unchanged(impl, tmp_path):
    base = tmp_path / "base"
    build_archive(base)
    got = outputs(base)
    assert sorted(got) == sorted(p.name for p in GOLDEN.iterdir())
    for name, data in got.items():
        assert data == (GOLDEN / name).read_bytes(), f"{name} differs from {GOLDEN / name}"
    again = outputs(base)  # from fastseg's cache and the map's
    assert again == got


def main() -> None:
    """Rewrite the golden files from what the code gives now."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        build_archive(base)
        GOLDEN.mkdir(exist_ok=True)
        for name, data in outputs(base).items():
            (GOLDEN / name).write_bytes(data)
    print(f"wrote {len(os.listdir(GOLDEN))} files to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
