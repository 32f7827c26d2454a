"""The pool of ffmpeg jobs (services.restreamer.jobs) with real ffmpeg processes.

gevent's subprocess is cooperative without monkey-patching, so these run in the
pytest process; every process started is waited for before a test ends.
"""

import contextvars

import gevent
import gevent.queue
import prometheus_client
import pytest

from services.cutting import CutError
from services.cutting.ffmpeg import ffmpeg
from services.restreamer.jobs import JobLimits, JobPool, Refused
from services.restreamer.metrics import Metrics
from tests.servers import metric

#: ffmpeg reading stdin until it closes: runs exactly as long as the test wants.
CAT = ["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "null", "-"]


def client(address: str) -> dict:
    return {"REMOTE_ADDR": address}


@pytest.fixture
def registry():
    return prometheus_client.CollectorRegistry()


def make_pool(registry, **limits) -> JobPool:
    return JobPool(JobLimits(**{"memory_bytes": None, **limits}), Metrics.of(registry))


def refused(registry, route: str, reason: str) -> float:
    text = prometheus_client.generate_latest(registry).decode()
    return metric(text, "fastseg_restreamer_ffmpeg_refused_total", route=route, reason=reason)


def test_a_job_takes_a_place_only_while_it_runs_ffmpeg(registry):
    pool = make_pool(registry, jobs=1)
    with pool.job("frame", client("10.0.0.1")) as job:
        assert pool.places == 0  # nothing started: a cache hit costs no place
        ffmpeg(CAT, [b"\0" * 1600]).read_all()
        assert job.admitted
        assert pool.places == 1
    assert pool.places == 0
    assert pool.running == set()


def test_a_full_pool_is_503_and_a_clients_share_429(registry):
    pool = make_pool(registry, jobs=2, per_client=1)
    with pool.job("cut", client("10.0.0.1")) as first:
        first.admit()
        with pool.job("cut", client("10.0.0.1")) as again, pytest.raises(Refused) as share:
            again.admit()
        assert share.value.code == 429
        assert ("Retry-After", "5") in share.value.get_headers()
        with pool.job("cut", client("10.0.0.2")) as second:
            second.admit()
            with pool.job("cut", client("10.0.0.3")) as third, pytest.raises(Refused) as full:
                ffmpeg(CAT, [b""]).read_all()  # refused before the process starts
            assert full.value.code == 503
            assert not third.procs
    assert pool.places == 0
    assert refused(registry, "cut", "client_busy") == 1
    assert refused(registry, "cut", "busy") == 1


def test_a_jobs_second_process_waits_for_a_place(registry):
    """With one place, a job's second ffmpeg starts only when its first has ended."""
    pool = make_pool(registry, jobs=1)
    order = []
    with pool.job("cut", client("10.0.0.1")):
        feed = gevent.queue.Queue()
        first = ffmpeg(CAT, iter(feed.get, None))
        order.append("first started")

        def second():
            ffmpeg(CAT, [b""]).read_all()
            order.append("second done")

        waiting = gevent.spawn(contextvars.copy_context().run, second)  # as bounds.py does
        gevent.sleep(0.2)
        assert order == ["first started"]  # still waiting for the place
        assert pool.places == 1
        feed.put(None)
        first.read_all()
        order.append("first done")
        waiting.get(timeout=30)
    assert order == ["first started", "first done", "second done"]
    assert pool.places == 0


def test_a_second_process_takes_a_free_place(registry):
    pool = make_pool(registry, jobs=2)
    with pool.job("cut", client("10.0.0.1")):
        feed = gevent.queue.Queue()
        first = ffmpeg(CAT, iter(feed.get, None))
        ffmpeg(CAT, [b""]).read_all()  # alongside: the pool's second place
        feed.put(None)
        first.read_all()
        assert pool.places == 1
    assert pool.places == 0


def test_a_stopped_job_kills_its_ffmpeg_and_starts_no_more(registry):
    pool = make_pool(registry)
    with pool.job("waveform", client("10.0.0.1")) as job:
        feed = gevent.queue.Queue()
        proc = ffmpeg(CAT, iter(feed.get, None))
        job.stop("timeout")
        feed.put(None)
        with pytest.raises(CutError, match="exit status"):
            proc.read_all()
        assert isinstance(job.failure(CutError("x"), "waveform"), Refused)
        with pytest.raises(CutError, match="was stopped"):
            ffmpeg(CAT, [b""])
    assert pool.places == 0


def test_the_memory_limit_applies_to_the_child(registry):
    """An address space too small for ffmpeg to even load its libraries: a clean CutError."""
    pool = make_pool(registry)
    pool.limits = JobLimits(memory_bytes=16 * 2**20)
    with pool.job("frame", client("10.0.0.1")), pytest.raises(CutError, match="exit status"):
        ffmpeg(CAT, [b""]).read_all()
    assert pool.places == 0


def test_stop_all_refuses_new_jobs(registry):
    pool = make_pool(registry)
    pool.stop_all()
    with pool.job("thumbnail", client("10.0.0.1")) as job, pytest.raises(Refused) as stopping:
        job.admit()
    assert stopping.value.code == 503
    assert "stopping" in stopping.value.description
