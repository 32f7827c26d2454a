"""Under gevent's monkey-patching, cuts never block the event loop (run in a subprocess,
so the pytest process is never patched)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import datetime as dt, json, sys
    import gevent
    import fastseg
    from services.cutting import fast_cut

    hours, start, end = sys.argv[1], *map(dt.datetime.fromisoformat, sys.argv[2:4])
    events = []

    def tick():
        while True:
            events.append("tick")
            gevent.sleep(0.005)

    ticker = gevent.spawn(tick)
    gevent.sleep(0)
    segments = fastseg.get_best_segments(hours, start, end)
    for chunk in fast_cut(segments, start, end):
        events.append("chunk")
    ticker.kill()
    print(json.dumps(events))
    """
)


@pytest.mark.slow
def test_fast_cut_lets_other_greenlets_run(archive):
    start, end = archive.at(2.5), archive.at(9.5)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, archive.hours, start.isoformat(), end.isoformat()],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)
    first, last = events.index("chunk"), len(events) - 1 - events[::-1].index("chunk")
    # the ticker ran while ffmpeg encoded and between chunks of output
    assert events[:first].count("tick") > 1
    assert "tick" in events[first:last]
