"""Every service raises its soft open-file limit to the hard one at start."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import resource
from services.runtime import service

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
first = service.raise_fd_limit()
print(first, service.raise_fd_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE))
"""


def test_the_soft_limit_is_raised_to_the_hard_one_once_and_for_all():
    # In a child: the test process keeps its own limits.
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    first, again, soft, hard = map(int, out.stdout.split())
    assert soft == hard or hard == -1  # -1: RLIM_INFINITY, raised to a finite ceiling
    assert first == again == (soft if soft != -1 else first)  # idempotent, and says what it is
    assert first >= 256
