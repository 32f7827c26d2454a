"""services.runtime.patching: gevent's own patch_all, entry points read once."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import gevent.events
from importlib import metadata

seen = []
gevent.events.subscribers.append(lambda event: seen.append(type(event).__name__))
scans = []
original = metadata.entry_points
metadata.entry_points = lambda *a, **k: scans.append(k) or original(*a, **k)

from services.runtime.patching import patch_all

patch_all()

import socket, threading, time
from gevent import monkey
for name in ("socket", "threading", "time", "select", "os", "ssl", "subprocess", "signal"):
    assert monkey.is_module_patched(name), name
assert socket.socket is __import__("gevent.socket").socket.socket
assert gevent.events.notify_and_call_entry_points.__module__ == "gevent.events"
assert "GeventWillPatchAllEvent" in seen and "GeventDidPatchAllEvent" in seen, seen
assert "GeventDidPatchModuleEvent" in seen, seen
print(len(scans))
"""


def test_patch_all_patches_like_gevent_and_reads_entry_points_once():
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1", f"entry points were read {done.stdout.strip()} times"
