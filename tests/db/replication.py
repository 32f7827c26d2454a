"""Two real PostgreSQL servers for failover tests: a primary and its streaming standby.

Each listens on 127.0.0.1 at a port of its own, so a node's DSN names both the
way docs/OPERATING.md tells an operator to: ``host=127.0.0.1,127.0.0.1
port=P1,P2 target_session_attrs=read-write``. As root the servers run as the
``postgres`` user (PostgreSQL refuses root), in a directory under /tmp that it
can reach.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from services.db.embedded import find_server_binaries
from tests.cutter.processes import free_port

USER = "fastseg"
STANDBY_NAME = "standby1"

# fsync only matters when the machine loses power; a killed server loses nothing without it.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "full_page_writes": "off",
}


class Server:
    """One PostgreSQL data directory and the server running on it."""

    def __init__(self, root: Path, name: str, port: int) -> None:
        self.data = root / name
        self.port = port
        self.bindir = find_server_binaries()
        self.as_root = os.geteuid() == 0

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        proc = subprocess.run(
            [*prefix, str(self.bindir / program), *args],
            capture_output=True, text=True, cwd="/", start_new_session=True, timeout=120,
        )  # fmt: skip
        if proc.returncode != 0:
            raise AssertionError(f"{program} {args} exited {proc.returncode}: {proc.stderr}")
        return proc

    def configure(self, settings: dict[str, str]) -> None:
        with open(self.data / "postgresql.conf", "a") as f:
            f.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self.run("pg_ctl", "start", "-w", "-t", "60", "-s", "-D", str(self.data),
                 "-l", str(self.data / "server.log"))  # fmt: skip

    def crash(self) -> None:
        """Stop at once, as a crash does: no checkpoint, clients cut off mid-statement."""
        self.run("pg_ctl", "stop", "-m", "immediate", "-s", "-D", str(self.data))

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-m", "fast", "-s", "-D", str(self.data))

    def promote(self) -> None:
        self.run("pg_ctl", "promote", "-w", "-s", "-D", str(self.data))

    def dsn(self, dbname: str = "fastseg") -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={dbname}"

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Replicated:
    """A primary and a synchronous hot standby made from it by ``pg_basebackup -R``."""

    def __init__(self) -> None:
        # Under /tmp, not pytest's 0700 tmp dir: the postgres user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="fastseg-replication-"))
        os.chmod(self.root, 0o755)
        self.primary = Server(self.root, "primary", free_port())
        self.standby = Server(self.root, "standby", free_port())
        if self.primary.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def start(self) -> None:
        """initdb the primary, start it, copy it to the standby, start that (asynchronous)."""
        primary, standby = self.primary, self.standby
        primary.run("initdb", "-D", str(primary.data), "--username", USER, "--auth", "trust",
                    "--encoding", "UTF8", "--no-locale", "--no-instructions")  # fmt: skip
        primary.configure({**SETTINGS, "port": str(primary.port)})
        primary.start()
        with psycopg.connect(primary.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE fastseg")
        source = f"host=127.0.0.1 port={primary.port} user={USER} application_name={STANDBY_NAME}"
        standby.run(
            "pg_basebackup",
            "-d",
            source,
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )  # fmt: skip - a checkpoint now, not spread over minutes
        standby.configure({"port": str(standby.port)})
        standby.start()

    def synchronous(self) -> None:
        """From now on a commit returns once the standby has it: none acknowledged is lost.

        Set once the standby streams (before, every commit would wait for it).
        """
        with psycopg.connect(self.primary.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{STANDBY_NAME}'")
            conn.execute("SELECT pg_reload_conf()")

    def streaming(self) -> str | None:
        """The standby's sync_state as the primary sees it, once it streams."""
        with psycopg.connect(self.primary.dsn("postgres"), autocommit=True) as conn:
            row = conn.execute(
                "SELECT sync_state FROM pg_stat_replication"
                " WHERE application_name = %s AND state = 'streaming'",
                (STANDBY_NAME,),
            ).fetchone()
        return row[0] if row else None

    def dsn(self) -> str:
        """Both servers, the writable one chosen: what nodes are given."""
        return (
            f"host=127.0.0.1,127.0.0.1 port={self.primary.port},{self.standby.port}"
            f" user={USER} dbname=fastseg target_session_attrs=read-write"
        )

    def close(self) -> None:
        for server in (self.standby, self.primary):
            try:
                server.stop()
            except AssertionError:  # already stopped, or crashed: nothing to stop
                pass
        shutil.rmtree(self.root, ignore_errors=True)
