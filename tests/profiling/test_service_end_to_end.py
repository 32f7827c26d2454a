"""A gevent service started like the real ones, sampled, scraped and drawn as a flamegraph."""

import os
import re
import signal
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from profiling.collect import parse_metrics
from profiling.flamegraph import main as flamegraph
from tests.waiting import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LEAF = "burn(__main__)"


@pytest.fixture(params=["flag", "environment"])
def service(request):
    argv = [sys.executable, "-m", "tests.profiling.service_child", "--metrics-port", "0"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("FASTSEG_STACK_SAMPLER", None)
    if request.param == "flag":
        argv += ["--stack-sampler", "--stack-sampler-interval", "0.002"]
    else:
        env["FASTSEG_STACK_SAMPLER"] = "1"
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        match = re.search(r"metrics on http://[^:]+:(\d+)/metrics", line)
        if match:
            break
    else:
        proc.wait()
        pytest.fail("the service never announced its metrics port:\n" + "".join(lines))
    yield proc, f"http://127.0.0.1:{match[1]}/metrics"
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def scrape_until_sampled(url, proc):
    """Scrape until the sampler has caught burn() (bounded by the child staying alive)."""

    def sampled():
        if proc.poll() is not None:
            pytest.fail(f"no sample ending in {LEAF} (service exit status {proc.poll()})")
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        if "fastseg_process_stack_seconds_total" in text:
            stacks = parse_metrics(text, url)
            if any(s.endswith(LEAF) for s in stacks):
                return text
        return None

    # 60 s is a backstop only; the sample normally shows at once
    return wait_until(sampled, f"a sample ending in {LEAF}", timeout=60)


@pytest.mark.slow
def test_a_sampled_service_becomes_a_flamegraph(service, tmp_path, capsys):
    proc, url = service
    text = scrape_until_sampled(url, proc)
    # The log counter is installed by the same setup.
    assert (
        'fastseg_process_log_records_total{function="main",level="WARNING",module="__main__"} 1.0'
        in text
    )
    out = tmp_path / "service.svg"
    assert flamegraph(["--url", url, "-o", str(out)]) == 0, capsys.readouterr().err
    titles = [t.text for t in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith(f"{LEAF} (") for t in titles)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
