"""Watching real processes through /proc: who descends from whom, and who is still alive.

A process is known by its PID and its start time (clock ticks after boot), so a
PID the kernel handed to someone else is not mistaken for the process we saw.
"""

import os
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    session: int
    start: int
    state: str
    cmdline: str


def read(pid: int) -> Proc | None:
    """The process ``pid`` as /proc shows it now, or None when there is none."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return Proc(
        pid=pid, ppid=int(fields[1]), pgrp=int(fields[2]), session=int(fields[3]),
        start=int(fields[19]), state=fields[0], cmdline=cmdline,
    )  # fmt: skip


def everyone() -> list[Proc]:
    procs = (read(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [p for p in procs if p is not None]


def alive(proc: Proc) -> bool:
    """True while the very process we saw runs (not a zombie, not a reused PID)."""
    now = read(proc.pid)
    return now is not None and now.start == proc.start and now.state != "Z"


def descendants(root: int, procs: list[Proc] | None = None) -> list[Proc]:
    procs = everyone() if procs is None else procs
    children: dict[int, list[Proc]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def in_sessions(sessions: set[int]) -> list[Proc]:
    """Live processes in any of these sessions or process groups."""
    return [
        p for p in everyone() if (p.session in sessions or p.pgrp in sessions) and p.state != "Z"
    ]


class TreeWatcher:
    """Records every process seen below ``root`` (and any ``extra()`` gives) until stopped.

    Started before the signal and stopped after the root exits, it knows every
    process the root started, even short-lived and daemonised ones (``extra``).
    """

    def __init__(self, root: int, extra=lambda: [], interval: float = 0.05):
        self.root, self.extra, self.interval = root, extra, interval
        self.seen: dict[tuple[int, int], Proc] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.is_set():
            self.look()
            self._done.wait(self.interval)

    def look(self) -> None:
        procs = everyone()
        found = descendants(self.root, procs)
        for pid in self.extra():
            p = read(pid)
            if p is not None:
                found.append(p)
                found += descendants(pid, procs)
        for p in found:
            if p.cmdline or (p.pid, p.start) not in self.seen:  # a zombie has no command line
                self.seen[(p.pid, p.start)] = p

    def __enter__(self) -> "TreeWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def survivors(self) -> list[Proc]:
        """Processes seen that still run, and strangers in their sessions or groups."""
        left = [p for p in self.seen.values() if alive(p)]
        groups = {p.session for p in self.seen.values()} | {p.pgrp for p in self.seen.values()}
        groups.discard(os.getsid(0))
        groups.discard(os.getpgrp())
        others = [p for p in in_sessions(groups) if (p.pid, p.start) not in self.seen]
        return left + others

    def names(self) -> set[str]:
        return {p.cmdline for p in self.seen.values()}
