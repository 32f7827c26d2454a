"""The sampler cannot deadlock /metrics; the hazard it avoids is real.

Four child processes (tests/profiling/stress_child.py) run at once, so the
20 s stress runs overlap: the sampler at 1 kHz while /metrics is scraped in a
tight loop, in plain threads and under gevent; and the same load with a naive
handler that calls prometheus_client's ``labels().inc()``, which must hang.
Each child's faulthandler watchdog turns a hang into exit status 1 plus every
thread's traceback on stderr; the parent's timeout is only a backstop.
"""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRESS_SECONDS = 20
HAZARD_SECONDS = 30  # the naive handler hangs within about a second; this is the give-up point
INTERVAL = 0.001  # 1 kHz
BACKSTOP = 90  # seconds: a child still alive then is killed and the test fails

pytestmark = pytest.mark.slow

RUNS = {
    "fixed-threads": ("threads", "sampler", STRESS_SECONDS, 10),
    "fixed-gevent": ("gevent", "sampler", STRESS_SECONDS, 10),
    "naive-threads": ("threads", "naive", HAZARD_SECONDS, 3),
    "naive-gevent": ("gevent", "naive", HAZARD_SECONDS, 3),
}


@pytest.fixture(scope="module")
def children():
    """Start every run at once; each test collects its own."""
    procs = {}
    for key, (mode, handler, seconds, watchdog) in RUNS.items():
        argv = [sys.executable, "-m", "tests.profiling.stress_child", mode, handler]
        argv += [str(seconds), str(INTERVAL), str(watchdog)]
        env = dict(os.environ, PYTHONPATH=ROOT)
        procs[key] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # A run no test read (its test went to another xdist worker) still has open pipes.
        proc.stdout.close()
        proc.stderr.close()


def finish(proc):
    try:
        out, err = proc.communicate(timeout=BACKSTOP)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"child still running after {BACKSTOP} s (watchdog did not fire)\n{err}")
    return proc.returncode, out, err


@pytest.mark.parametrize("run", ["fixed-threads", "fixed-gevent"])
def test_sampling_at_1khz_never_hangs_a_tight_scrape_loop(children, run):
    returncode, out, err = finish(children[run])
    assert returncode == 0, f"{run} hung or failed (exit {returncode}):\n{err[-5000:]}"
    report = json.loads(out.splitlines()[-1])
    assert report["errors"] == []
    assert not report["scraper_alive"], "the scraper never finished its last request"
    assert report["collections"] > 0
    assert report["scrapes"] > 0
    assert report["sampled_seconds"] > 0
    assert any(stack.endswith("busy_step(__main__)") for stack in report["stacks"])
    # The main loop's collections were sampled too: the sampler fired inside them.
    assert any("generate_latest(prometheus_client" in s for s in report["stacks"])


@pytest.mark.parametrize("run", ["naive-threads", "naive-gevent"])
def test_without_the_fix_a_handler_using_prometheus_client_hangs(children, run):
    returncode, out, err = finish(children[run])
    assert "started" in out, f"{run} never got going:\n{err[-5000:]}"
    assert returncode != 0, (
        f"{run}: the naive handler did not hang in {HAZARD_SECONDS} s; "
        f"the hazard test no longer proves anything:\n{out[-2000:]}"
    )
    assert "Timeout (0:00:03)!" in err, err[-5000:]
    # The main thread (or greenlet) is stuck in the handler, waiting for a lock
    # that the collection it interrupted holds.
    # (faulthandler prints "line N in f", gevent's run info "line N, in f".)
    assert re.search(r"line \d+,? in handler", err), err[-5000:]
    assert re.search(r"prometheus_client/(metrics|values)\.py\", line \d+,? in (labels|inc)", err)
