"""The embedded cluster: placement, sharing, last-out stops it, missing binaries, as root."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from services.db import embedded as embedded_module
from services.db.embedded import EmbeddedPostgres, EmbeddedPostgresError

from .fixtures import TEST_SETTINGS

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def fallback_dir(monkeypatch):
    """A throw-away FASTSEG_PG_FALLBACK the postgres user can reach."""
    path = Path(tempfile.mkdtemp(prefix="fastseg-pgtest-", dir="/var/tmp"))
    path.chmod(0o755)
    monkeypatch.setenv("FASTSEG_PG_FALLBACK", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def reachable_base(fallback_dir):
    """A base dir every user can reach (pytest's tmp dirs are 0700 when run as root)."""
    base = fallback_dir / "base"
    base.mkdir()
    return base


def running(cluster):
    return cluster.pg_ctl("status", check=False).returncode == 0


def test_shared_by_two_users_stopped_by_the_last(reachable_base):
    first = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    second = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    dsn = first.start()
    try:
        assert first.data_dir == reachable_base / ".fastseg" / "pg"
        assert second.start() == dsn
        with psycopg.connect(dsn) as conn:
            # A unix socket in the data directory, and no TCP at all.
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
            sockets = conn.execute("SHOW unix_socket_directories").fetchone()[0]
            assert sockets == str(first.data_dir)
            conn.execute("CREATE TABLE kept (x int)")
        first.stop()
        assert running(second), "the first user left while the second still needed it"
    finally:
        first.stop()
        second.stop()
    assert not running(first)
    # Data survives a restart, in the same place.
    again = EmbeddedPostgres(reachable_base)
    with again, psycopg.connect(again.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 0
    assert not running(again)


def test_a_cluster_started_by_someone_else_is_left_running(reachable_base):
    ours = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    ours.start()
    ours.stop()
    ours.pg_ctl("start", "-w", "-s")  # an operator
    try:
        user = EmbeddedPostgres(reachable_base)
        with user, psycopg.connect(user.dsn) as conn:
            conn.execute("SELECT 1")
        assert running(user)
    finally:
        ours.pg_ctl("stop", "-m", "fast", "-w", "-s")


@pytest.mark.skipif(not IS_ROOT, reason="only root has to hand the cluster to postgres")
def test_root_places_an_unreachable_base_elsewhere_and_links_it(tmp_path, fallback_dir):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    cluster = EmbeddedPostgres(private / "base", settings=TEST_SETTINGS)
    with cluster:
        assert cluster.link.is_symlink()
        assert cluster.data_dir.parent == fallback_dir
        assert Path(os.path.realpath(cluster.link)) == cluster.data_dir
        owner = cluster.data_dir.stat()
        assert owner.st_uid != 0
        assert stat.S_IMODE(owner.st_mode) == 0o700
        with psycopg.connect(cluster.dsn) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == "fastseg"


def test_missing_server_binaries_say_what_to_install(monkeypatch):
    monkeypatch.delenv("FASTSEG_PG_BIN", raising=False)
    monkeypatch.setattr(embedded_module.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(embedded_module.shutil, "which", lambda name: None)
    with pytest.raises(EmbeddedPostgresError, match="apt-get install postgresql"):
        embedded_module.find_server_binaries()


def test_server_binaries_found():
    assert (embedded_module.find_server_binaries() / "initdb").exists()


def test_dsn_before_start_is_an_error(tmp_path):
    with pytest.raises(EmbeddedPostgresError, match="call start"):
        EmbeddedPostgres(tmp_path).dsn  # noqa: B018


def test_too_long_base_dir_is_refused_or_relocated(fallback_dir):
    base = fallback_dir / ("x" * 100)
    cluster = EmbeddedPostgres(base, settings=TEST_SETTINGS)
    if not IS_ROOT:
        with pytest.raises(EmbeddedPostgresError, match="too long for a unix socket"):
            cluster.start()
        return
    with cluster:
        assert cluster.link.is_symlink()
        assert len(str(cluster.data_dir)) < 90


USER_SCRIPT = """
import sys, time
from services.db.embedded import EmbeddedPostgres
from tests.db.fixtures import TEST_SETTINGS
EmbeddedPostgres(sys.argv[1], settings=TEST_SETTINGS).start()
print("started", flush=True)
time.sleep(600)
"""


def _killed_user(base, *, forks: bool = False):
    """A process using the cluster of ``base``, killed with SIGKILL once it holds its share.

    With ``forks`` it first forks a child that outlives it, holding copies of all its
    descriptors (as a worker forked without exec would); returns that child's PID.
    """
    script = USER_SCRIPT
    if forks:
        script = script.replace(
            'print("started"',
            "import os\nchild = os.fork()\nif child == 0:\n    time.sleep(600)\n"
            'print(child, flush=True)\nprint("started"',
        )
    user = subprocess.Popen(
        [sys.executable, "-c", script, str(base)],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    child = None
    try:
        if forks:
            child = int(user.stdout.readline())
        assert user.stdout.readline().strip() == "started"
    finally:
        user.send_signal(signal.SIGKILL)
        user.wait()
        user.stdout.close()
    return child


def _stop_if_running(cluster):
    """So that a failing test leaves no server behind."""
    if running(cluster):
        cluster.pg_ctl("stop", "-m", "immediate", "-w", "-s", check=False)


def test_a_killed_user_does_not_keep_the_cluster_running(reachable_base):
    live = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    _killed_user(reachable_base)  # started it, then killed: its share must not count
    live.start()
    try:
        assert running(live)
    finally:
        live.stop()
    try:
        assert not running(live), "the last live user left, but a killed one kept the cluster"
    finally:
        _stop_if_running(live)


def test_a_killed_users_forked_child_does_not_keep_the_cluster_running(reachable_base):
    """Only the registered process counts: a fork that inherited its descriptors does not."""
    live = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    child = _killed_user(reachable_base, forks=True)
    try:
        live.start()
        live.stop()
        assert not running(live), "a killed user's forked child kept the cluster running"
    finally:
        os.kill(child, signal.SIGKILL)
        _stop_if_running(live)


def test_a_killed_user_that_started_it_alone_is_cleaned_up_by_the_next(reachable_base):
    _killed_user(reachable_base)
    user = EmbeddedPostgres(reachable_base, settings=TEST_SETTINGS)
    with user:
        assert running(user)
    try:
        assert not running(user)
    finally:
        _stop_if_running(user)
