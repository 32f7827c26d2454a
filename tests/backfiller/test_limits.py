"""The backfiller's own limits: the free-disk floor, and a worker that dies is started again."""

import sys

import gevent
import gevent.event
import prometheus_client
import pytest

from services.backfiller.fetch import SWITCH_INTERVAL
from services.backfiller.limits import DiskFloor, DiskLow
from services.backfiller.manager import Backfiller
from services.backfiller.metrics import BackfillerMetrics
from services.backfiller.peers import Peer
from services.backfiller.worker import Config, PeerWorker
from tests.backfiller.trees import contents, tree
from tests.hostile.watch import error_records
from tests.waiting import wait_until


def test_below_the_free_space_floor_nothing_is_written_and_it_is_said_once(
    stream, tmp_path, make_peer, backfiller
):
    remote = tree(stream, tmp_path / "remote", {"source": set()})
    peer = make_peer(remote)
    local = tmp_path / "local"
    local.mkdir()
    run = backfiller(
        local, "--node", peer.url, "--metrics-port", "0", "--recent-cutoff", "0",
        "--min-free-mb", str(10**12), "--backoff", "0.1", "--max-backoff", "0.2",
    )  # fmt: skip
    wait_until(
        lambda: run.metric("fastseg_backfiller_passes_total", outcome="failed") >= 3,
        "three passes stopped by the floor",
        30,
    )
    assert contents(local) == {}
    assert run.metric("fastseg_backfiller_disk_low_total") == 1
    assert run.stop() == 0
    log = run.log()
    assert log.count("is below --min-free-mb 1000000000000: backfilling stops") == 1, log
    assert error_records(log) == [], log


def test_the_floor_reads_the_disk_again_before_crossing_it(tmp_path):
    registry = prometheus_client.CollectorRegistry()
    low = BackfillerMetrics.of(registry).disk_low
    floor = DiskFloor(str(tmp_path), 0, low)
    floor.take(1000)  # far above a floor of 0
    free = floor._room + 1000
    floor.floor = free - 10  # as if the downloader had written meanwhile
    floor.take(5)  # still counted against the last reading
    with pytest.raises(DiskLow, match="less than"):
        floor.take(free)  # more than is left: read again, and refused
    assert floor.low
    assert registry.get_sample_value("fastseg_backfiller_disk_low_total") == 1
    floor.floor = 0
    floor.take(1)
    assert not floor.low


def test_a_worker_that_dies_is_logged_counted_and_started_again(tmp_path, monkeypatch, caplog):
    registry = prometheus_client.CollectorRegistry()
    metrics = BackfillerMetrics.of(registry)
    config = Config(base_dir=str(tmp_path), channels=("ch",), qualities=None, backoff=0.01,
                    max_backoff=0.02, pass_interval=0.01, metrics=metrics)  # fmt: skip
    passes = []

    def run_pass(self):
        passes.append(self.peer.name)
        if len(passes) <= 2:
            raise RuntimeError("a bug")
        return "clean"

    monkeypatch.setattr(PeerWorker, "run_pass", run_pass)
    stopping = gevent.event.Event()
    peer = Peer("p", "http://127.0.0.1:9")
    backfiller = Backfiller(config, lambda: [peer], "me", 60, stopping)
    backfiller.update([peer])
    while len(passes) < 4:
        gevent.sleep(0.01)
    stopping.set()
    gevent.joinall(list(backfiller.workers.values()), timeout=10)
    restarts = registry.get_sample_value("fastseg_backfiller_worker_restarts_total", {"peer": "p"})
    assert restarts == 2
    died = [r for r in caplog.records if "worker died (RuntimeError: a bug)" in r.getMessage()]
    assert len(died) == 2
    assert died[0].exc_info is not None  # the traceback, once
    assert not died[1].exc_info  # then one line


@pytest.mark.parametrize("run_once", [True, False], ids=["run once", "until stopped"])
def test_the_switch_interval_is_short_while_the_backfiller_runs_and_restored_after(
    tmp_path, run_once
):
    """Process-wide, so set where the backfiller starts and undone when it stops
    (docs/DESIGN.md#backfiller), never as a side effect of a fetch."""
    before = sys.getswitchinterval()
    metrics = BackfillerMetrics.of(prometheus_client.CollectorRegistry())
    config = Config(
        base_dir=str(tmp_path), channels=("ch",), qualities=None, run_once=run_once, metrics=metrics
    )
    stopping = gevent.event.Event()
    seen = []

    def load():
        seen.append(sys.getswitchinterval())
        stopping.set()
        return []

    assert Backfiller(config, load, "me", 60, stopping).run() == 0
    assert seen == [SWITCH_INTERVAL]
    assert sys.getswitchinterval() == before != SWITCH_INTERVAL
