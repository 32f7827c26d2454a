"""``fastseg cut`` end to end, in a subprocess like an operator would run it."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cutting import checks
from tests.cutting.test_fast import expected_frames

ROOT = Path(__file__).parents[2]


def fastseg_cut(archive, *args, module="services.cli"):
    cmd = [sys.executable, "-m", module] + (["cut"] if module == "services.cli" else [])
    cmd += ["--base-dir", str(archive.base), "--channel", "ch", "--quality", "src", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("module", ["services.cli", "services.cut"])
def test_fast_cut_to_a_file(ts_archive, tmp_path, module):
    out = tmp_path / "clip.ts"
    start, end = ts_archive.at(2.5), ts_archive.at(6.25)
    result = fastseg_cut(
        ts_archive,
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat() + "Z",
        "-o",
        str(out),
        module=module,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote fast cut of" in result.stderr
    first, stop = expected_frames(ts_archive, 2.5, 6.25)
    assert len(checks.gray_frames(out)) == stop - first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.ts"]


@pytest.mark.slow
def test_full_cut_container_from_extension(ts_archive, tmp_path):
    out = tmp_path / "clip.mkv"
    result = fastseg_cut(
        ts_archive,
        "--start",
        ts_archive.at(1).isoformat(),
        "--end",
        ts_archive.at(2).isoformat(),
        "--type",
        "full",
        "--encoding",
        "crf=30,height=90",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    info = checks.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=format_name:stream=height",
            "-of",
            "csv=p=0",
            str(out),
        ]
    ).stdout.decode()
    assert "matroska" in info
    assert "90" in info.split()


def test_rough_cut(ts_archive, tmp_path):
    out = tmp_path / "clip.ts"
    result = fastseg_cut(
        ts_archive,
        "--start",
        ts_archive.at(3).isoformat(),
        "--end",
        ts_archive.at(5).isoformat(),
        "--type",
        "rough",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size == sum(p.stat().st_size for p in ts_archive.paths[1:3])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(
            ["--start", "2026-11-27T18:00:05", "--end", "2026-11-27T18:00:01"],
            2,
            "--end '2026-11-27T18:00:01' is not after --start",
            id="end before start",
        ),
        pytest.param(
            ["--start", "yesterday", "--end", "2026-11-27T18:00:01"],
            2,
            "'yesterday' is not a time: give ISO 8601",
            id="bad time",
        ),
        pytest.param(
            ["--start", "2026-11-28T10:00:00", "--end", "2026-11-28T10:00:05"],
            1,
            "no complete video from 2026-11-28T10:00:00 to 2026-11-28T10:00:05; use --allow-holes",
            id="no segments",
        ),
        pytest.param(
            ["--start", "2026-11-28T10:00:00", "--end", "2026-11-28T10:00:05", "--allow-holes"],
            1,
            "no video segments from",
            id="no segments, holes allowed",
        ),
        pytest.param(
            [
                "--start",
                "2026-11-27T18:00:00",
                "--end",
                "2026-11-27T18:00:05",
                "--encoding",
                "crf=20",
            ],
            2,
            "--encoding only applies to --type full",
            id="encoding without full",
        ),
        pytest.param(
            [
                "--start",
                "2026-11-27T18:00:00",
                "--end",
                "2026-11-27T18:00:05",
                "--type",
                "full",
                "--encoding",
                "crf=99",
            ],
            2,
            "--encoding: crf 99 is not a whole number from 0 to 51",
            id="bad encoding",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(ts_archive, tmp_path, args, code, message):
    out = tmp_path / "clip.ts"
    result = fastseg_cut(ts_archive, *args, "-o", str(out))
    assert result.returncode == code
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_channel(ts_archive, tmp_path):
    result = fastseg_cut(
        ts_archive,
        "--start",
        "2026-11-27T18:00:00",
        "--end",
        "2026-11-27T18:00:01",
        "-o",
        str(tmp_path / "x.ts"),
        "--channel",
        "nope",
    )
    assert result.returncode == 1
    assert "no such channel and quality" in result.stderr


def test_full_cut_needs_a_known_extension(ts_archive, tmp_path):
    result = fastseg_cut(
        ts_archive,
        "--start",
        "2026-11-27T18:00:00",
        "--end",
        "2026-11-27T18:00:01",
        "--type",
        "full",
        "-o",
        str(tmp_path / "x.avi"),
    )
    assert result.returncode == 2
    assert "cannot tell the container from" in result.stderr
