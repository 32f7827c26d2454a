"""The cutter on a damaged segment: refused with the file named, or cut around it."""

import random

from tests.media import ffprobe_json
from tests.waiting import wait_until

from .conftest import CHANNEL, QUALITY
from .test_cutter import NAME, add_job, reaches, state_of


def test_damaged_segment_errors_or_becomes_a_hole(db, pg_dsn, archive, tmp_path, cutters):
    # segment 4 (T0+8 s to T0+10 s) becomes random bytes of the same size
    paths = sorted((archive / CHANNEL / QUALITY).glob("*/*.ts"))
    damaged = sorted(paths, key=lambda p: (p.parent.name, p.name))[4]
    damaged.write_bytes(random.Random(3).randbytes(damaged.stat().st_size))
    refused = add_job(db, "refused", start=7, end=13)
    allowed = add_job(db, "allowed", start=7, end=13, allow_holes=True)
    out = tmp_path / "clips"
    cutter = cutters.start(pg_dsn, archive, NAME, [f"clips=local:{out}"])

    row = wait_until(reaches(db, refused, "UNEDITED"), "the damaged event to be given back")
    assert row.error.startswith(f"cutter {NAME!r}: segment {str(damaged)!r} ")
    assert f"'fastseg tombstone {damaged}'" in row.error
    row = wait_until(reaches(db, allowed, "DONE"), "the allow_holes event to be cut around it")
    cut = out / f"allowed-{row.video_id}.ts"
    # 6 s asked for, less the 2 s damaged segment: the output spans the hole
    assert abs(float(ffprobe_json(cut, "-show_format")["format"]["duration"]) - 6.0) < 0.2
    assert f"cutting around damaged segment {str(damaged)!r}" in cutter.output()
    assert state_of(db, refused).uploader == NAME
