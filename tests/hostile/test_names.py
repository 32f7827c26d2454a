"""Names the OS cannot hold, sent to every restreamer route that takes one.

A name of 255 ``é`` is 255 characters but 510 bytes, over Linux's 255-byte file
names: it used to pass the safe-name rule and make the OS raise "File name too
long", a 500 with a traceback at ERROR. Each route must refuse it with a 4xx,
and any other path the OS cannot follow (a component that is a file, a whole
path over PATH_MAX) must be a 404 too. The restreamer runs as a subprocess;
its log is read for ERROR records.
"""

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.hostile.watch import error_records, fd_count, files_under, peak_rss_kib
from tests.restreamer.trees import make_tree
from tests.servers import ServerProcess

HOUR = dt.datetime(2026, 11, 27, 17)
H = "2026-11-27T17"
SEG = "00:00.000000-2.0-full-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts"
RANGE = "start=2026-11-27T17:00:00&end=2026-11-27T17:00:04"
AT = "time=2026-11-27T17:00:01"
LONG = "é" * 255  # 510 bytes
LONG_MIXED = "é" * 127 + "xx"  # 256 bytes: one over

# Every route that takes a name, with {} where the bad name goes.
ROUTES = [
    "/files/{}",
    "/files/{}/q",
    "/files/ch/{}",
    "/files/{}/q/" + H,
    "/files/ch/{}/" + H,
    "/segments/{}/q/" + H + "/" + SEG,
    "/segments/ch/{}/" + H + "/" + SEG,
    "/segments/ch/q/" + H + "/{}",
    "/playlist/{}.m3u8",
    "/playlist/{}/q.m3u8",
    "/playlist/ch/{}.m3u8",
    "/cut/{}/q.ts?" + RANGE,
    "/cut/ch/{}.ts?" + RANGE,
    "/coverage/{}.svg",
    "/coverage/{}.json",
    "/coverage/ch.json?quality={}",
    "/waveform/{}/q.png?" + RANGE,
    "/waveform/ch/{}.png?" + RANGE,
    "/frame/{}/q.png?" + AT,
    "/frame/ch/{}.png?" + AT,
    "/thumbnail/{}/q.png?" + AT,
    "/thumbnail/ch/{}.png?" + AT,
    "/clips/{}",
]
BATCH = ["/batch/{}/q/" + H, "/batch/ch/{}/" + H]


def _get(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _requests(server, name: str) -> list[tuple[str, int, str]]:
    answers = []
    for route in ROUTES:
        url = server.url + route.format(quote(name, safe=""))
        answers.append((route, *_get(url)))
    for route in BATCH:
        url = server.url + route.format(quote(name, safe=""))
        answers.append((route, *_get(url, f'["{SEG}"]'.encode())))
    url = server.url + "/batch/ch/q/" + H
    answers.append(("/batch body", *_get(url, f'["{name}"]'.encode())))
    return answers


def _archive(base: Path) -> None:
    make_tree(base, "ch", "q", HOUR, 3)
    (base / "stray").write_text("a file where a channel would be")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    base, clips = root / "base", root / "clips"
    _archive(base)
    clips.mkdir()
    server = ServerProcess(base, "--clips-dir", str(clips))
    yield server, base
    server.stop()


def _victim_is_well(server, base: Path, before: set) -> None:
    status, body = _get(f"{server.url}/files/ch/q/{H}")
    assert status == 200
    assert SEG[:10] in body
    assert files_under(base) == before  # nothing written, nothing hidden
    assert fd_count(server.proc.pid) < 100
    assert peak_rss_kib(server.proc.pid) < 300_000
    assert not error_records(server.log()), server.log()


@pytest.mark.parametrize(
    ("name", "said"),
    [
        pytest.param(LONG, "510 bytes in UTF-8, over 255", id="255 é, 510 bytes"),
        pytest.param(LONG_MIXED, "256 bytes in UTF-8, over 255", id="256 bytes"),
    ],
)
def test_a_name_over_255_bytes_is_refused_by_every_route(served, name, said):
    server, base = served
    before = files_under(base)
    for route, status, body in _requests(server, name):
        assert status in (400, 404), (route, status, body)
        if status == 400:
            assert said in body, (route, body)
    _victim_is_well(server, base, before)


def test_a_name_that_is_a_file_is_a_404(served):
    server, base = served
    before = files_under(base)
    for route, status, body in _requests(server, "stray"):
        # the batch answers "NAME -" for a segment it does not have, as for any missing one
        assert status in (200, 400, 404), (route, status, body)
        assert status != 200 or route.startswith(("/files", "/batch")), (route, body)
    _victim_is_well(server, base, before)


def test_a_path_over_path_max_is_a_404(tmp_path):
    """Names each under 255 bytes, whose path is over PATH_MAX (4096): the OS refuses it."""
    base = tmp_path
    while len(str(base)) < 3600:
        base = base / ("d" * 200)
    base.mkdir(parents=True)
    _archive(base)
    server = ServerProcess(base)
    try:
        before = files_under(base)
        name = "x" * 255
        for route in ["/files/{0}/{0}", "/files/{0}/{0}/" + H, "/segments/{0}/{0}/" + H + "/" + SEG,
                      "/playlist/{0}/{0}.m3u8", "/coverage/{0}.json"]:  # fmt: skip
            status, body = _get(server.url + route.format(name))
            assert status in (200, 404), (route, status, body)  # /files lists "nothing" as []
        status, body = _get(f"{server.url}/files/ch/q/{name}x")
        assert status == 400
        _victim_is_well(server, base, before)
    finally:
        server.stop()
