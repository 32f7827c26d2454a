"""Chat: merging two nodes' batches, and ``/CHANNEL/chat.json`` for 2 h against reading the files.

``make bench`` uses a week (168 h at 10 messages/s: 6 million messages per node,
a file per minute); ``make bench-smoke`` (``--benchmark-disable``) two hours.
``FASTSEG_BENCH_CHAT_HOURS`` sets another size. The batches are generated once
under /var/tmp/fastseg-bench-chat (``benchmarks/chat.py``).
"""

import os
import time

import prometheus_client
import pytest

from benchmarks import chat as bench
from services.restreamer.app import create_app

ROUTE_RATIO = 8.0  # chat.json for 2 h within this multiple of reading and parsing its files


def hours_for(benchmark) -> int:
    default = 2 if benchmark.disabled else 168
    return int(os.environ.get("FASTSEG_BENCH_CHAT_HOURS", default))


@pytest.mark.timeout(3600)
@pytest.mark.benchmark(group="chat: merging two nodes")
def test_merge_two_nodes(benchmark, tmp_path):
    """Both nodes' batches in one directory (as after a backfill), every crowded minute merged."""
    hours = hours_for(benchmark)
    root = bench.make(hours)
    work = tmp_path / "merge"
    chat_dir = {}

    def setup():
        chat_dir["path"] = bench.together(root, work)

    benchmark.pedantic(lambda: bench.merge_two(chat_dir["path"]), setup=setup, rounds=1)
    messages = bench.read_files(chat_dir["path"], bench.T0 - 3600, bench.T0 + hours * 3600)
    assert messages >= hours * 3600 * bench.RATE * 0.995  # each node lost some; both, a few
    assert bench.merge_two(chat_dir["path"]) == 0  # nothing left to merge
    if not benchmark.disabled:
        took = benchmark.stats.stats.min
        benchmark.extra_info.update(hours=hours, messages=messages, seconds=round(took, 1))
        print(f"\nmerged {hours} h from two nodes ({messages:,} messages) in {took:.1f} s, "
              f"{messages / took:,.0f} messages/s")  # fmt: skip


@pytest.fixture
def merged(benchmark, tmp_path_factory):
    hours = min(hours_for(benchmark), 4)
    root = bench.make(hours)
    chat_dir = bench.together(root, tmp_path_factory.mktemp("merged"))
    bench.merge_two(chat_dir)
    return os.path.dirname(os.path.dirname(chat_dir)), hours


@pytest.mark.benchmark(group="chat: chat.json for 2 h")
def test_chat_json_two_hours(benchmark, merged):
    """The route over a merged archive against reading and parsing the files it reads."""
    base, hours = merged
    span = min(hours, 2) * 3600
    start, end = bench.T0 + 60, bench.T0 + 60 + span
    client = create_app(
        {"BASE_DIR": base, "METRICS_REGISTRY": prometheus_client.CollectorRegistry()}
    ).test_client()
    iso = "%Y-%m-%dT%H:%M:%S"
    url = (f"/chan/chat.json?start={time.strftime(iso, time.gmtime(start))}"
           f"&end={time.strftime(iso, time.gmtime(end))}")  # fmt: skip
    chat_dir = os.path.join(base, "chan", "chat")

    def route():
        resp = client.get(url)
        assert resp.status_code == 200
        return resp

    rounds = 1 if benchmark.disabled else 3
    resp = benchmark.pedantic(route, rounds=rounds)
    assert len(resp.json) >= span * bench.RATE * 0.995  # each node lost some; both, a few
    if not benchmark.disabled:
        reading = min(_timed(lambda: bench.read_files(chat_dir, start, end)) for _ in range(3))
        ratio = benchmark.stats.stats.min / reading
        benchmark.extra_info.update(route_s=benchmark.stats.stats.min, read_s=reading, ratio=ratio)
        print(f"\nchat.json {span / 3600:g} h: {benchmark.stats.stats.min:.2f} s, "
              f"reading the files {reading:.2f} s: {ratio:.2f}x")  # fmt: skip
        assert ratio < ROUTE_RATIO


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


RATE_RATIO = 3.0  # an hour's rates, cold, within this multiple of reading and parsing its files


class _Memory:
    def __init__(self):
        self.data = {}

    def get(self, key):
        return self.data.get(key)

    def put(self, key, data):
        self.data[key] = data


@pytest.mark.benchmark(group="chat: the rate map")
def test_rate_map(benchmark, merged):
    """The moments' counts over the merged hours, cold (every file read and merged) against
    reading and parsing the files; then warm, from the cache keyed by the files' names."""
    from services.archive import chat_rate  # noqa: PLC0415 - the module under test

    base, hours = merged
    start, end = bench.T0, bench.T0 + hours * 3600
    chat_dir = os.path.join(base, "chan", "chat")
    rounds = 1 if benchmark.disabled else 3
    found = benchmark.pedantic(lambda: chat_rate.rates(chat_dir, start, end, ("clip",)),
                               rounds=rounds)  # fmt: skip
    assert len(found.counts) == hours * 360
    assert sum(found.counts) >= hours * 3600 * bench.RATE * 0.99
    if not benchmark.disabled:
        cache = _Memory()
        chat_rate.rates(chat_dir, start, end, ("clip",), cache)
        warm = min(_timed(lambda: chat_rate.rates(chat_dir, start, end, ("clip",), cache))
                   for _ in range(3))  # fmt: skip
        reading = min(_timed(lambda: bench.read_files(chat_dir, start, end)) for _ in range(3))
        ratio = benchmark.stats.stats.min / reading
        benchmark.extra_info.update(cold_s=benchmark.stats.stats.min, warm_s=warm,
                                    read_s=reading, ratio=ratio)  # fmt: skip
        print(f"\nrates of {hours} h: cold {benchmark.stats.stats.min:.2f} s, warm "
              f"{warm * 1000:.1f} ms; reading the files {reading:.2f} s: {ratio:.2f}x")  # fmt: skip
        assert ratio < RATE_RATIO
