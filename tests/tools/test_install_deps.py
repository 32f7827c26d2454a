"""scripts/install-system-deps: ``run`` installs what running needs, ``test`` adds the test tools.

Run with a PATH holding only python3, so every tool looks missing, and with the
dry-run switch, so nothing is installed: the list is what each mode would install.
"""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps"
TEST_ONLY = {"chromium", "chromium-driver", "wrk", "rsync", "prometheus"}


def would_install(tmp_path, *args) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python3").exists():
        (bin_dir / "python3").symlink_to("/usr/bin/python3")
    env = {**os.environ, "PATH": str(bin_dir), "FASTSEG_DEPS_DRY_RUN": "1"}
    return subprocess.run(["/bin/bash", str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_run_installs_only_what_running_needs(tmp_path):
    out = would_install(tmp_path)
    assert out.returncode == 0, out.stderr
    wanted = set(out.stdout.split())
    assert {"ffmpeg", "gcc"} <= wanted
    assert not wanted & TEST_ONLY
    assert would_install(tmp_path, "run").stdout == out.stdout


def test_test_adds_browsers_and_benchmark_tools(tmp_path):
    out = would_install(tmp_path, "test")
    assert out.returncode == 0, out.stderr
    assert {"ffmpeg", "gcc"} | TEST_ONLY <= set(out.stdout.split())


def test_an_unknown_mode_is_a_one_line_error(tmp_path):
    out = would_install(tmp_path, "bench")
    assert out.returncode == 2
    assert out.stderr.strip() == "usage: scripts/install-system-deps [run|test] (got 'bench')"
