"""``fastseg cut --range ... --transition ...``: several ranges to one file."""

import pytest

from tests.cutting import checks
from tests.cutting.test_cli import fastseg_cut


def ranges_args(archive, *spans):
    args = []
    for a, b in spans:
        args += ["--range", archive.at(a).isoformat(), archive.at(b).isoformat() + "Z"]
    return args


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fast", "full"])
def test_cut_of_three_ranges_with_a_crossfade(ts_archive, tmp_path, kind):
    out = tmp_path / "clip.ts"
    args = ranges_args(ts_archive, (0.5, 2.5), (4, 6), (8.2, 10.2))
    args += ["--transition", "none", "--transition", "crossfade:0.5", "--type", kind]
    if kind == "full":
        args += ["--encoding", "crf=30"]
    result = fastseg_cut(ts_archive, *args, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert len(checks.gray_frames(out)) == 60 + 60 + 60 - 15
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.ts"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--range", "2026-11-27T18:00:00", "2026-11-27T18:00:02", "--start", "x"], "not both"),
        ([], "give --start and --end, or one --range"),
        (["--range", "2026-11-27T18:00:00", "nope"], "'nope' is not a time"),
        (
            [
                "--range",
                "2026-11-27T18:00:00",
                "2026-11-27T18:00:02",
                "--range",
                "2026-11-27T18:00:01",
                "2026-11-27T18:00:03",
            ],
            "begins before the previous one ends",
        ),  # fmt: skip
        (
            [
                "--range",
                "2026-11-27T18:00:00",
                "2026-11-27T18:00:02",
                "--range",
                "2026-11-27T18:00:03",
                "2026-11-27T18:00:05",
                "--transition",
                "wipe:1",
            ],
            "transition type 'wipe' is not one of fade, crossfade",
        ),  # fmt: skip
        (
            [
                "--range",
                "2026-11-27T18:00:00",
                "2026-11-27T18:00:02",
                "--range",
                "2026-11-27T18:00:03",
                "2026-11-27T18:00:05",
                "--type",
                "rough",
            ],
            "a rough cut takes one range",
        ),  # fmt: skip
        (
            [
                "--start",
                "2026-11-27T18:00:00",
                "--end",
                "2026-11-27T18:00:02",
                "--transition",
                "fade:1",
            ],
            "--transition joins ranges",
        ),  # fmt: skip
    ],
)
def test_bad_ranges_are_usage_errors(ts_archive, tmp_path, args, message):
    result = fastseg_cut(ts_archive, *args, "-o", str(tmp_path / "clip.ts"))
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []
