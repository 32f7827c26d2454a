"""A hostile origin: variant names that climb, hide, are absolute or too long, and too many.

The downloader runs as a subprocess against a real HTTP origin on 127.0.0.1
(tests.downloader.origin) whose master playlist names its variants as an
attacker would. Each case asserts that nothing is created outside BASE, nothing
hidden inside it, the good variant keeps recording, the refusal is one WARNING
per variant and counted, and the log has no ERROR record.
"""

import os
import re
import signal
import uuid
from pathlib import Path

import pytest
import requests

from tests.downloader.archive import archive
from tests.downloader.conftest import Downloader
from tests.downloader.origin import Origin
from tests.hostile.watch import error_records, fd_count, files_under, peak_rss_kib, rss_kib
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

FAST_TIMEOUTS = ["--soft-timeout", "1", "--hard-timeout", "4"]
MAX_QUALITIES = 16  # services.downloader.variants.MAX_QUALITIES, as DESIGN states it


class NamedOrigin(Origin):
    """An Origin whose master playlist gives its variants other NAMEs than their URLs use."""

    def __init__(self, variants, labels: dict[str, str], **kwargs):
        super().__init__(variants, **kwargs)
        self.labels = labels  # URL key -> the NAME the master gives it

    def _master_playlist(self, session: int) -> str:
        text = super()._master_playlist(session)
        for key, label in self.labels.items():
            text = text.replace(f'NAME="{key}"', f'NAME="{label}"')
        return text


class FloodOrigin(NamedOrigin):
    """Sends ``flood_bytes`` for every segment of the variant ``flood``."""

    flood_bytes = b""

    def _fragment(self, variant: str, n: int) -> bytes:
        if variant == "flood":
            return self.flood_bytes
        return super()._fragment(variant, n)


@pytest.fixture(scope="module")
def ts_stream(stream_factory):
    return stream_factory(seconds=12, segment_seconds=1)


@pytest.fixture
def hostile(tmp_path, ts_stream):
    """``hostile(labels, *args)``: a NamedOrigin with a ``good`` variant plus ``labels``,
    and a downloader recording channel ``chan`` from it into ``tmp_path/base``."""
    started: list = []

    def run(labels: dict[str, str], *args: str, cls=NamedOrigin):
        variants = {"good": ts_stream, **dict.fromkeys(labels, ts_stream)}
        origin = cls(variants, labels, window=6).start()
        started.append(origin)
        base = tmp_path / "base"
        d = Downloader(["chan", "--url", origin.master_url, "--metrics-port", "0",
                        *FAST_TIMEOUTS, *args], base)  # fmt: skip
        started.append(d)
        return origin, d

    yield run
    for thing in started:
        if isinstance(thing, Downloader):
            if thing.proc.poll() is None:
                thing.stop(signal.SIGKILL)
            thing.proc.stderr.close()
        else:
            thing.stop()


def _recorded(base: Path, quality: str) -> int:
    return len(archive(base / "chan" / quality)) if (base / "chan" / quality).exists() else 0


def _refused(d: Downloader, reason: str) -> float:
    text = requests.get(f"http://127.0.0.1:{d.metrics_port()}/metrics", timeout=10).text
    m = re.search(
        rf'^fastseg_downloader_refused_variants_total{{channel="chan",reason="{reason}"}} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(m.group(1)) if m else 0.0


def _check_victim(d: Downloader, base: Path, outside: list[Path]) -> None:
    """The good variant records on; nothing outside BASE or hidden in it; no ERROR record."""
    wait_until(lambda: _recorded(base, "good") >= 3, "the good variant's segments", 30)
    before = _recorded(base, "good")
    wait_until(lambda: _recorded(base, "good") > before, "the good variant recording on", 30)
    for path in outside:
        assert not os.path.lexists(path), f"{path} was created outside BASE"
    created = files_under(base)
    assert not [p for p in created if any(part.startswith(".") for part in p.parts)], created
    assert {p.parts[1] for p in created if len(p.parts) > 1} == {"good"}, created
    assert fd_count(d.proc.pid) < 200
    assert peak_rss_kib(d.proc.pid) < 300_000
    assert d.stop() == 0
    assert not error_records(d.log), d.log


@pytest.mark.parametrize(
    ("label", "why"),
    [
        pytest.param("../../../../../../../../tmp/ESCAPED-{tag}", "starts with '.'", id="climb"),
        pytest.param(
            "good/../../../../../../../../tmp/ESCAPED-{tag}", "contains '/'", id="climb inside"
        ),  # fmt: skip
        pytest.param("/tmp/ESCAPED-{tag}", "contains '/'", id="absolute"),
        pytest.param(".fastseg", "starts with '.'", id="hidden"),
        pytest.param("é" * 255, "is 510 bytes in UTF-8, over 255", id="510 bytes"),
    ],
)
def test_a_variant_name_that_cannot_be_a_directory_is_skipped(hostile, label, why):
    tag = uuid.uuid4().hex
    label = label.format(tag=tag)
    origin, d = hostile({"bad": label})
    base = d.base
    wait_until(lambda: _refused(d, "name") == 1, "the refusal to be counted", 30)
    _check_victim(d, base, [Path(f"/tmp/ESCAPED-{tag}"), base.parent / f"ESCAPED-{tag}"])
    warnings = [line for line in d.lines if " WARNING " in line and "skipping variant" in line]
    assert len(warnings) == 1, d.log  # once, however often the master is read
    assert why in warnings[0]
    assert "cannot be a directory under BASE" in warnings[0]


def test_only_the_qualities_asked_for_are_created(hostile):
    tag = uuid.uuid4().hex
    origin, d = hostile(
        {"other": "other", "bad": f"../../../../../../../tmp/ESCAPED-{tag}"}, "--qualities", "good"
    )
    _check_victim(d, d.base, [Path(f"/tmp/ESCAPED-{tag}")])
    assert not (d.base / "chan" / "other").exists()


def test_an_origin_listing_hundreds_of_variants_gets_a_few_recorded(hostile):
    labels = {f"v{i:03}": f"v{i:03}" for i in range(300)}
    origin, d = hostile(labels)
    wait_until(lambda: _refused(d, "limit") == 300 + 1 - MAX_QUALITIES, "the refusals", 30)
    wait_until(lambda: _recorded(d.base, "good") >= 3, "the good variant's segments", 30)
    recorded = {p.name for p in (d.base / "chan").iterdir()}
    assert recorded <= {"good", *labels}
    assert len(recorded) <= MAX_QUALITIES
    assert "good" in recorded  # the master's order: good comes first
    assert d.stop() == 0
    warnings = [line for line in d.lines if " WARNING " in line and "skipping" in line]
    assert len(warnings) == 11, d.log  # ten named, then one line for the rest
    assert f"over the {MAX_QUALITIES} qualities a channel records" in warnings[0]
    assert not error_records(d.log), d.log


def test_media_playlists_that_would_stall_spin_or_crash_the_worker_are_refused(hostile):
    origin, d = hostile({})
    wait_until(lambda: _recorded(d.base, "good") >= 3, "the good variant's segments", 30)
    rss_before = rss_kib(d.proc.pid)

    def entries(target, extinf):
        return f"#EXTM3U\n#EXT-X-TARGETDURATION:{target}\n#EXTINF:{extinf},\n/seg/good/0.ts\n"

    junk = [entries(2, "nan"), entries(2, "inf"), entries(2, "1e300"), entries(-5, 2),
            entries(10**9, 2)]  # fmt: skip
    huge = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "#EXTINF:2,\n/seg/good/0.ts\n" * 800_000
    assert len(huge) > 16 * 1024 * 1024  # services.downloader.playlist.MAX_PLAYLIST_BYTES
    origin.junk_playlists([body.encode() for body in [*junk, huge]])
    wait_until(lambda: not origin.faults.junk, "the junk to be served", 60)
    before = _recorded(d.base, "good")
    wait_until(lambda: _recorded(d.base, "good") > before, "the good variant recording on", 30)
    assert rss_kib(d.proc.pid) - rss_before < 20_000  # the 21 MB body was never held
    _check_victim(d, d.base, [])
    assert "has a bad duration nan" in d.log or "target duration" in d.log, d.log


def test_a_segment_body_larger_than_any_stream_is_cut_off_and_not_asked_again(hostile):
    limit = 12_500_000 * 1 + 1024 * 1024  # getter.max_segment_bytes of a 1-second entry
    FloodOrigin.flood_bytes = b"G" * (3 * limit)
    origin, d = hostile({"flood": "flood"}, cls=FloodOrigin)
    flood = d.base / "chan" / "flood"
    wait_until(lambda: d.log.count("Mbit/s at most") >= 3, "three floods cut off", 60)
    sizes = [p.stat().st_size for p in flood.rglob("*.ts")]
    assert sizes
    assert max(sizes) <= limit
    assert all("-partial-" in p.name or "-temp-" in p.name for p in flood.rglob("*.ts"))
    requests_ = [path for _, path, _ in origin.requests if path.startswith("/seg/flood/")]
    assert len(requests_) == len(set(requests_))  # each asked once: never retried
    assert peak_rss_kib(d.proc.pid) < 300_000  # never held in memory
    wait_until(lambda: _recorded(d.base, "good") >= 3, "the good variant's segments", 30)
    assert d.stop() == 0
    assert not error_records(d.log), d.log
