"""The editor page of a whole node (``fastseg node --editor-token-file``), in headless Chromium.

A live ffmpeg source is recorded by a real node whose cutter serves one local
upload location, published under the node's ``/clips/``. The page offers the
location the running cutter recorded, refuses each bad edit with a readable
message (writing nothing), takes a good one, and follows it to DONE; the DONE
link opens the clip over http.
"""

import datetime as dt
import signal
import subprocess
import sys

import pytest
import requests

from services.db import states
from services.demo.source import LiveSource
from tests.node.test_node_end_to_end import free_port
from tests.waiting import wait_until

from .browser import Page
from .conftest import ALICE

pytestmark = pytest.mark.slow

CAROL = "carol-token-0123456789abcdef"  # an editor whose name is no email address


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def text(when: dt.datetime) -> str:
    return when.isoformat(timespec="milliseconds")


@pytest.fixture
def node(tmp_path, pg_dsn, db):
    """A recording node with a writable editor; yields (url, clips directory)."""
    tokens = tmp_path / "editors.txt"
    tokens.write_text(f"{ALICE} alice@example.com\n{CAROL} carol\n")
    clips = tmp_path / "clips"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with LiveSource() as source, open(tmp_path / "node.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.node", "--base-dir", str(tmp_path / "base"),
             "--channel", "demo", "--url", source.master_url, "--db", pg_dsn,
             "--host", "127.0.0.1", "--port", str(port), "--name", "n1",
             "--editor-token-file", str(tokens), "--clips-dir", str(clips),
             "--location", f"clips=local:{clips};url={url}/clips/"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield url, clips
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(90) == 0, (tmp_path / "node.log").read_text()[-3000:]


def test_a_node_takes_an_edit_from_the_page_and_its_cutter_uploads_it(
    node,
    chromium,
    db,
    tmp_path,
):
    url, clips = node
    began = utc_now()

    def recorded():
        try:
            listed = requests.get(f"{url}/files/demo/360p", timeout=10)
        except requests.ConnectionError:
            return False  # not listening yet
        return listed.status_code == 200 and listed.json()

    wait_until(recorded, "the node to record", 90, 0.5)
    wait_until(lambda: requests.get(f"{url}/api/locations", timeout=10).json(),
               "the cutter's location", 60, 0.5)  # fmt: skip
    assert requests.get(f"{url}/api/locations", timeout=10).json() == [
        {"name": "clips", "backend": "local", "public_url": f"{url}/clips/", "nodes": ["n1"]}
    ]
    event = str(states.add_event(db, "Live moment"))

    shots = tmp_path / "shots"
    shots.mkdir()
    chromium.set_window_size(1280, 900)
    page = Page(chromium, url, shots)
    page.open()
    chromium.execute_script("localStorage.clear()")
    page.open()
    # No quality is called source: the highest resolution the node recorded comes first.
    page.wait(lambda: page.el("quality").get_attribute("value") == "360p", "360p chosen")
    item = page.wait(lambda: page.driver.find_elements("css selector", f"li[data-id='{event}']"),
                     "the event in the list")[0]  # fmt: skip
    item.click()
    page.wait(lambda: page.text("ev-name") == "Live moment", "the event to open")
    # The location list comes from the running cutter.
    page.wait(lambda: "served now: clips" in page.text("ev-locations"), "the live locations")
    assert page.text("ev-locations") == f"served now: clips (local, {url}/clips/)"
    options = page.js(
        "return [...document.querySelectorAll('#locations option')].map(o => o.value)"
    )
    assert options == ["clips"]
    assert page.el("ev-location").get_attribute("value") == "clips"  # offered as the default
    page.shot("opened")

    page.fill("token", ALICE)

    def refused(reason: str, what: str) -> None:
        before = page.message()[0]
        page.el("ev-submit").click()
        page.wait(lambda: page.message()[0] != before and page.message()[1], what)
        shown, error = page.message()
        assert error
        assert reason in shown, shown
        assert shown.endswith("(HTTP 400)")
        assert states.get_event(db, event).state == "UNEDITED"  # nothing written
        page.shot(what.replace(" ", "-"))

    # Wait until 10 s of video exist after the node began, then edit its last complete 6 s.
    wait_until(lambda: utc_now() > began + dt.timedelta(seconds=26), "26 s of recording", 60, 0.5)
    end = utc_now() - dt.timedelta(seconds=8)
    start = end - dt.timedelta(seconds=6)
    page.fill("in", text(start))
    page.fill("out", text(end))

    page.fill("ev-location", "nowhere")
    refused("no running cutter serves upload location 'nowhere': "
            "the upload locations served now are 'clips'", "unknown location")  # fmt: skip
    page.fill("ev-location", "clips")

    future = utc_now() + dt.timedelta(hours=1)
    page.fill("in", text(future))
    page.fill("out", text(future + dt.timedelta(seconds=5)))
    refused("is entirely in the future", "future range")

    early = began - dt.timedelta(hours=1)
    page.fill("in", text(early))
    page.fill("out", text(end))
    refused("demo/360p has no complete video from", "holes")

    page.fill("in", text(start))
    page.fill("out", text(end))
    # A quality the page still offers but the archive no longer has (removed meanwhile).
    page.js("const s = document.getElementById('quality'); s.add(new Option('720p', '720p'));"
            "s.value = '720p'; s.dispatchEvent(new Event('change'));")  # fmt: skip
    page.wait(lambda: "720p" in page.message()[0], "the page to fail to load 720p")
    refused("quality '720p' of channel 'demo' has no recorded video: its qualities are 180p, 360p",
            "unknown quality")  # fmt: skip
    page.js("const s = document.getElementById('quality');"
            "s.value = '360p'; s.dispatchEvent(new Event('change'));")  # fmt: skip

    page.fill("token", CAROL)
    refused("editor 'carol' is not an email address", "editor not an email")

    page.fill("token", ALICE)
    page.fill("in", text(start))
    page.fill("out", text(end))
    page.el("ev-submit").click()
    page.wait(lambda: page.text("ev-state") in ("EDITED", "CLAIMED", "DONE"), "the edit taken")
    page.wait(lambda: page.text("ev-state") == "DONE", "the node's cutter to finish", 120)
    shown, error = page.message()
    assert not error, shown
    page.shot("done")
    row = states.get_event(db, event)
    assert (row.state, row.editor, row.video_quality) == ("DONE", "alice@example.com", "360p")
    link = page.driver.find_element("css selector", "#ev-link a").get_attribute("href")
    assert link == row.video_link
    assert link.startswith(f"{url}/clips/")
    clip = requests.get(link, timeout=30)
    assert clip.status_code == 200
    assert clip.headers["Content-Type"] == "video/mp2t"
    (on_disk,) = clips.glob("*.ts")
    assert clip.content == on_disk.read_bytes()
    assert clip.content[0] == 0x47  # an MPEG-TS sync byte


MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=900000,VIDEO="720p30"
/playlist/demo/720p30.m3u8?start=a
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=640x360,VIDEO="hd"
/playlist/demo/hd.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5000000
/playlist/demo/odd%20name.m3u8
"""


def test_quality_module_reads_resolutions_from_a_master_playlist(chromium, api):  # noqa: F811
    chromium.get(f"{api.url}/editor")
    got = chromium.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        import("/static/editor/quality.js").then(async ({ parseMaster, defaultQuality }) => {
          done([parseMaster(arguments[0]), await defaultQuality("test", ["holey", "source"])]);
        }).catch((e) => done("import failed: " + e.message));
        """,
        MASTER,
    )
    assert got == [
        [
            {"name": "720p30", "height": 720},  # the height in its name
            {"name": "hd", "height": 360},  # RESOLUTION wins over the name
            {"name": "odd name", "height": 0},  # neither: bandwidth order decides
        ],
        "source",
    ]
