"""Only BASE/CHANNEL/QUALITY/HOUR directories hold video: the one rule, and its users.

A folder of clips, the embedded database, a channel with no qualities of hours
and stray files are ignored by :mod:`services.archive.layout`, and so by
``fastseg coverage`` (the restreamer's listings and the edit checks are tested
in tests/restreamer and tests/editor).
"""

import datetime as dt
import json
import subprocess
import sys

from services.archive import layout
from tests.fastseg.trees import put_run

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)


def messy_base(tmp_path):
    base = tmp_path / "base"
    put_run(base / "chan" / "source", T0, 3)
    put_run(base / "chan" / "360p", T0, 3)
    (base / "chan" / "empty-quality").mkdir()
    (base / "chan" / "notes.txt").write_text("not a quality")
    (base / "chan" / ".hidden" / "2026-11-27T17").mkdir(parents=True)
    (base / "clips").mkdir()
    (base / "clips" / "a clip-0123.ts").write_bytes(b"G" * 188)
    (base / "empty-channel").mkdir()
    (base / ".fastseg" / "pg").mkdir(parents=True)
    (base / ".demo" / "clips" / "2026-11-27T17").mkdir(parents=True)  # hidden: never a channel
    (base / "README").write_text("a file")
    return base


def test_the_rule(tmp_path):
    base = str(messy_base(tmp_path))
    assert layout.channels(base) == ["chan"]
    assert layout.qualities(base, "chan") == ["360p", "source"]
    assert layout.hours(base, "chan", "source") == ["2026-11-27T17"]
    assert layout.is_channel(base, "chan")
    assert not layout.is_channel(base, "clips")
    assert not layout.is_channel(base, "missing")
    assert not layout.is_quality(base, "chan", "empty-quality")
    assert not layout.is_quality(base, "chan", ".hidden")
    assert layout.channels(str(tmp_path / "no-such-base")) == []


def test_coverage_lists_only_channels_of_qualities_of_hours(tmp_path):
    base = messy_base(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "coverage", "--base-dir", str(base), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert [(r["channel"], r["quality"]) for r in json.loads(out.stdout)] == [
        ("chan", "360p"),
        ("chan", "source"),
    ]
