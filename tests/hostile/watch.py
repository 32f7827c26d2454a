"""What a hostile-input test measures of the node under attack, read from /proc and its log.

Every case in ``tests/hostile/`` asserts the same things of its victim: memory and
descriptors stay bounded, nothing is written outside BASE, and the attacker raises
no ERROR record and no 5xx. The readings live here once so the cases agree on them.
"""

import os
import re
from pathlib import Path

__all__ = [
    "ERROR_RECORD",
    "error_records",
    "fd_count",
    "files_under",
    "peak_rss_kib",
    "rss_kib",
]

#: A log line at ERROR or CRITICAL in the services' format, or a traceback's first line.
ERROR_RECORD = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) |^Traceback ", re.MULTILINE)


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"/proc/{pid}/status has no {field}: is it a kernel thread?")


def rss_kib(pid: int) -> int:
    """The resident memory of ``pid`` now, in KiB (VmRSS)."""
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """The most resident memory ``pid`` ever had, in KiB (VmHWM): catches a spike between reads."""
    return _status_kib(pid, "VmHWM")


def fd_count(pid: int) -> int:
    """How many file descriptors ``pid`` holds open now."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def files_under(root: Path) -> set[Path]:
    """Every file and directory below ``root``, relative to it: to compare before and after."""
    found = set()
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(Path(top, name).relative_to(root))
    return found


def error_records(log: str) -> list[str]:
    """The lines of ``log`` at ERROR or above, and traceback starts: an attacker may cause none."""
    return [m.group(0) + log[m.end() :].split("\n", 1)[0] for m in ERROR_RECORD.finditer(log)]
