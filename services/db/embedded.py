"""A private PostgreSQL cluster for a node given no ``--db`` (docs/DESIGN.md#the-embedded-database).

The cluster lives in ``BASE/.fastseg/pg``: created with ``initdb`` on first use,
listening only on a unix socket in that directory (``listen_addresses = ''``),
started by the first process that needs it and stopped by the last one to
leave. ``BASE/.fastseg/pg.users`` lists the users, one ``PID START_TIME TOKEN``
a line (the start time from ``/proc/PID/stat``, so a PID reused by another
process does not count; the token tells two users in one process apart); a
user that no longer exists (killed, say) is dropped whenever the list is read,
so it never keeps the cluster running. A cluster
someone else started is used and left running.

PostgreSQL refuses to run as root. As root, ``initdb`` and ``pg_ctl`` run as the
``postgres`` system user, which must be able to reach the data directory; when
it cannot (BASE under a 0700 home, or pytest's 0700 tmp dirs), the cluster is
placed in ``/var/lib/fastseg/pg-HASH`` (HASH from BASE's real path; override
the parent with ``FASTSEG_PG_FALLBACK``) and ``BASE/.fastseg/pg`` is a symlink to
it, so an operator can always find it there.
"""

import fcntl
import glob
import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import uuid
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "find_server_binaries",
    "installed_bin_dirs",
]

PORT = 5432  # only names the socket file: nothing listens on TCP
USER = "fastseg"
DBNAME = "fastseg"
SYSTEM_USER = "postgres"
# A unix socket path is at most 107 bytes on Linux; "/.s.PGSQL.5432" takes 14 of them.
MAX_SOCKET_DIR = 90


class EmbeddedPostgresError(Exception):
    """The private cluster could not be created, started or stopped; the message says why."""


def installed_bin_dirs() -> list[str]:
    """Debian's /usr/lib/postgresql/VERSION/bin directories, newest version first."""
    found = glob.glob("/usr/lib/postgresql/*/bin")
    found.sort(key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[-2].split(".")])
    return found[::-1]


def find_server_binaries() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (newest version first).

    ``FASTSEG_PG_BIN`` overrides the search. Raises EmbeddedPostgresError saying
    what to install when there are none.
    """
    candidates = []
    if os.environ.get("FASTSEG_PG_BIN"):
        candidates.append(os.environ["FASTSEG_PG_BIN"])
    candidates += installed_bin_dirs()
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    for bindir in candidates:
        if os.access(os.path.join(bindir, "initdb"), os.X_OK) and os.access(
            os.path.join(bindir, "pg_ctl"), os.X_OK
        ):
            return Path(bindir)
    raise EmbeddedPostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
        "or on PATH: install them (Debian: apt-get install postgresql), set FASTSEG_PG_BIN "
        "to their directory, or point --db / FASTSEG_DB at an existing server"
    )


class EmbeddedPostgres:
    """The private cluster of one archive root; ``start()`` returns its DSN.

    ``settings`` are extra ``postgresql.conf`` lines written at initdb (the test
    suite turns fsync off with them).
    """

    def __init__(self, base_dir: str | os.PathLike[str], *, settings: dict[str, str] | None = None):
        self.base = Path(base_dir).absolute()
        self.state_dir = self.base / ".fastseg"
        self.link = self.state_dir / "pg"
        self.settings = dict(settings or {})
        self._as_root = os.geteuid() == 0
        self._registered = False
        self._token = uuid.uuid4().hex[:12]
        self.data_dir: Path | None = None

    @property
    def dsn(self) -> str:
        if self.data_dir is None:
            raise EmbeddedPostgresError("the embedded cluster is not started: call start() first")
        return f"host={self.data_dir} port={PORT} user={USER} dbname={DBNAME}"

    @property
    def _data(self) -> Path:
        """The data directory, once :meth:`start` has chosen it."""
        if self.data_dir is None:
            raise EmbeddedPostgresError("the embedded cluster is not started: call start() first")
        return self.data_dir

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- running things as the right user --------------------------------------------

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SYSTEM_USER, "--"] if self._as_root else []
        # A new session: a Ctrl-C meant for us must not reach the postmaster.
        proc = subprocess.run(
            [*prefix, *cmd], capture_output=True, text=True, cwd="/", start_new_session=True
        )
        if check and proc.returncode != 0:
            raise EmbeddedPostgresError(
                f"{os.path.basename(cmd[0])} failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()}"
            )
        return proc

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``pg_ctl ARGS -D DATA`` as the cluster's owner.

        A server it starts logs to ``DATA/server.log``: without ``-l`` it would
        inherit our pipes and ``pg_ctl`` would never seem to finish.
        """
        if args and args[0] in ("start", "restart") and "-l" not in args:
            args = (*args, "-l", str(self._data / "server.log"))
        return self._run(str(self._bindir / "pg_ctl"), *args, "-D", str(self._data), check=check)

    # -- where the cluster lives -------------------------------------------------------

    def _place(self) -> Path:
        """Find or make the data directory; see the module docstring for where."""
        if self.link.is_symlink():
            return Path(os.path.realpath(self.link))
        if self.link.is_dir():
            return self.link
        if len(str(self.link)) <= MAX_SOCKET_DIR:
            self.link.mkdir(mode=0o700)
            if not self._as_root:
                return self.link
            self._give_to_postgres(self.link)
            if self._reachable(self.link):
                return self.link
            self.link.rmdir()
        elif not self._as_root:
            raise EmbeddedPostgresError(
                f"the embedded cluster's directory {str(self.link)!r} is too long for a unix "
                f"socket (at most {MAX_SOCKET_DIR} characters): use a shorter --base-dir or --db"
            )
        real = os.path.realpath(self.base)
        parent = Path(os.environ.get("FASTSEG_PG_FALLBACK", "/var/lib/fastseg"))
        target = parent / f"pg-{hashlib.sha256(real.encode()).hexdigest()[:16]}"
        parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        target.mkdir(mode=0o700, exist_ok=True)
        self._give_to_postgres(target)
        if not self._reachable(target):
            raise EmbeddedPostgresError(
                f"user {SYSTEM_USER!r} cannot reach {str(target)!r} either: make its parents "
                "searchable (chmod o+x), set FASTSEG_PG_FALLBACK, or use --db"
            )
        self.link.symlink_to(target)
        logger.warning(
            "user %r cannot reach %r, so the embedded database lives in %r (linked from there)",
            SYSTEM_USER,
            str(self.state_dir),
            str(target),
        )
        return target

    def _give_to_postgres(self, path: Path) -> None:
        try:
            pw = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise EmbeddedPostgresError(
                f"running as root, and PostgreSQL refuses root: it needs the {SYSTEM_USER!r} "
                "system user (apt-get install postgresql creates it), or run as another user"
            ) from None
        os.chown(path, pw.pw_uid, pw.pw_gid)

    def _reachable(self, path: Path) -> bool:
        return (
            self._run("test", "-w", str(path), "-a", "-x", str(path), check=False).returncode == 0
        )

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> str:
        """Make the cluster if needed, start it unless running, and count us as a user."""
        if self._registered:
            return self.dsn
        self._bindir = find_server_binaries()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _Flock(self.state_dir / "pg.lock"):
            self.data_dir = self._place()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            users = self._users()
            users.add(self._entry())
            self._write_users(users)
            self._registered = True
            try:
                if self.pg_ctl("status", check=False).returncode != 0:
                    logger.info("starting the embedded database in %r", str(self.data_dir))
                    (self.state_dir / "pg.started").write_text(f"{os.getpid()}\n")
                    self.pg_ctl("start", "-w", "-t", "120", "-s")
                else:
                    logger.info("using the running embedded database in %r", str(self.data_dir))
                self._create_database()
            except BaseException:
                self._leave()
                raise
        return self.dsn

    def _entry(self) -> tuple[int, int, str]:
        me = _identity(os.getpid())
        assert me is not None  # we are running
        return (*me, self._token)

    def _users(self) -> set[tuple[int, int, str]]:
        """The processes registered as users that still exist (call under ``pg.lock``)."""
        try:
            text = (self.state_dir / "pg.users").read_text()
        except FileNotFoundError:
            return set()
        users = set()
        for line in text.splitlines():
            try:
                pid_text, start_text, token = line.split()
                pid, start = int(pid_text), int(start_text)
            except ValueError:
                continue  # a damaged line: nobody
            if _identity(pid) == (pid, start):
                users.add((pid, start, token))
            else:
                logger.info("dropping embedded database user %d: it no longer runs", pid)
        return users

    def _write_users(self, users: set[tuple[int, int, str]]) -> None:
        path = self.state_dir / "pg.users"
        temp = path.with_suffix(".users.tmp")
        temp.write_text("".join(f"{pid} {start} {token}\n" for pid, start, token in sorted(users)))
        os.replace(temp, path)

    def _initdb(self) -> None:
        logger.info("creating the embedded database in %r (initdb)", str(self.data_dir))
        self._run(
            str(self._bindir / "initdb"),
            "-D", str(self._data),
            "--username", USER,
            "--auth", "trust",  # the socket's directory is private to its owner (0700)
            "--encoding", "UTF8",
            "--no-locale",
            "--no-instructions",
        )  # fmt: skip
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": _quote(str(self.data_dir)),
            "port": str(PORT),
            **self.settings,
        }
        with open(self._data / "postgresql.conf", "a") as f:
            f.write("\n# fastseg's embedded cluster\n")
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _create_database(self) -> None:
        import psycopg  # noqa: PLC0415 - keeps this module importable without the driver

        admin = f"host={self.data_dir} port={PORT} user={USER} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone():
                return
            conn.execute(f"CREATE DATABASE {DBNAME}")

    def stop(self) -> None:
        """Stop counting us; the last user out stops a cluster that fastseg started."""
        if not self._registered:
            return
        with _Flock(self.state_dir / "pg.lock"):
            self._leave()

    def _leave(self) -> None:
        """Unregister (under ``pg.lock``), and stop the cluster if nobody else uses it."""
        self._registered = False
        users = self._users()
        users.discard(self._entry())
        self._write_users(users)
        if users:
            logger.info(
                "embedded database still in use by process %s: leaving it running",
                ", ".join(sorted({str(pid) for pid, _, _ in users})),
            )
            return
        marker = self.state_dir / "pg.started"
        if marker.exists():
            logger.info("stopping the embedded database in %r", str(self.data_dir))
            self.pg_ctl("stop", "-m", "fast", "-w", "-s", check=False)
            marker.unlink()


def _identity(pid: int) -> tuple[int, int] | None:
    """``(pid, start time)`` of a running process, or None when there is no such process.

    The start time (clock ticks after boot, field 22 of ``/proc/PID/stat``) tells a
    process from a later one given the same PID. A zombie counts as gone.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return pid, int(fields[19])


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Flock:
    """An exclusive ``flock`` on a file for the duration of a ``with`` block."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> "_Flock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
