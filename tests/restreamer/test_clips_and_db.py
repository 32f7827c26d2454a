"""The restreamer's ``--clips-dir`` (clips over http) and its database when ``--db`` is absent."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import requests

from tests.servers import ROOT, ServerProcess


def test_clips_dir_is_served_under_clips(tmp_path, make_server):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "A clip-0123456789ab.ts").write_bytes(b"G" + bytes(187))
    (clips / ".A clip-fedcba987654.ts.tmp").write_bytes(b"half")
    (tmp_path / "secret").write_text("no")
    server = make_server(tmp_path / "clips", "--clips-dir", str(clips))
    got = requests.get(f"{server.url}/clips/A%20clip-0123456789ab.ts", timeout=30)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "video/mp2t"
    assert got.content == b"G" + bytes(187)
    for name in (".A%20clip-fedcba987654.ts.tmp", "..%2Fsecret", "missing.ts"):
        assert requests.get(f"{server.url}/clips/{name}", timeout=30).status_code == 404, name


def test_no_clips_route_without_the_option(tmp_path, make_server):
    server = make_server(tmp_path)
    assert requests.get(f"{server.url}/clips/x.ts", timeout=30).status_code == 404


def test_clips_dir_must_exist(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "services.restreamer", "--base-dir", str(tmp_path), "--no-db",
         "--clips-dir", str(tmp_path / "missing")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--clips-dir" in proc.stderr
    assert "is not a directory: create it first" in proc.stderr


@pytest.mark.slow
def test_without_db_the_events_api_uses_the_archives_embedded_cluster():
    # A directory the postgres user can reach, so the cluster lives in BASE/.fastseg/pg.
    root = tempfile.mkdtemp(dir="/var/tmp", prefix="fastseg-restreamer-")
    try:
        os.chmod(root, 0o755)
        tokens = os.path.join(root, "editors.txt")
        with open(tokens, "w") as f:
            f.write("ed-token-0123456789abcdef ed@example.com\n")
        server = ServerProcess(root, "--editor-token-file", tokens, embedded=True)
        try:
            assert requests.get(f"{server.url}/api/events", timeout=30).json() == []
            assert requests.get(f"{server.url}/api/locations", timeout=30).json() == []
            assert os.path.isdir(os.path.join(root, ".fastseg", "pg"))
            # The cluster is no channel of the archive.
            assert requests.get(f"{server.url}/files", timeout=30).json() == []
        finally:
            assert server.stop() == 0, server.log()
        assert not os.path.exists(os.path.join(root, ".fastseg", "pg.started"))  # stopped
    finally:
        shutil.rmtree(root, ignore_errors=True)
