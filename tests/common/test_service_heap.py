"""A service's startup heap is frozen, so later collections walk only what came after."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import gc
import fastseg
from services.runtime import service

before = len(gc.get_objects())
service.freeze_startup_heap()
print(before, gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_startup_heap_is_frozen():
    # In a child: freezing the test process's own heap would outlive the test.
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, frozen, after = map(int, out.stdout.split())
    assert before > 10_000  # the imports made that many objects the collector tracks
    assert frozen >= before // 2  # most of them survive and are frozen
    assert after < 100  # a full collection now walks next to nothing
