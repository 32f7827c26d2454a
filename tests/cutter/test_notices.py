"""The cutter's notices: a clip DONE (title and link) and an event that fails, to a webhook."""

import random

import pytest

from tests.cutter.conftest import CHANNEL, QUALITY
from tests.cutter.test_cutter import add_job, reaches
from tests.waiting import wait_until
from tests.webhook import Webhook

pytestmark = pytest.mark.slow


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.stop()


def test_a_clip_done_and_an_event_failing_are_notices(db, pg_dsn, archive, tmp_path, cutters,
                                                      webhook):  # fmt: skip
    # Segment 8 (T0+16 s to T0+18 s) becomes random bytes: a cut over it fails (UNEDITED).
    paths = sorted((archive / CHANNEL / QUALITY).glob("*/*.ts"),
                   key=lambda p: (p.parent.name, p.name))  # fmt: skip
    paths[8].write_bytes(random.Random(3).randbytes(paths[8].stat().st_size))
    done = add_job(db, "First clip", start=3, end=9)
    failing = add_job(db, "Damaged", start=15, end=19)
    cutter = cutters.start(
        pg_dsn, archive, "node1", [f"clips=local:{tmp_path / 'clips'};url=https://c.example/"],
        "--notify", f"{webhook.url}/api/webhooks/1/tok", "--notify", f"{webhook.url}/hook",
    )  # fmt: skip
    row = wait_until(reaches(db, done, "DONE"), "the event to be DONE")
    bodies = wait_until(lambda: webhook.bodies("clip_done"), "the clip-done notice")
    assert bodies[0]["fields"] == {"event": str(done), "title": "First clip",
                                   "link": row.video_link}  # fmt: skip
    assert bodies[0]["text"] == f"Clip done: First clip {row.video_link}"
    assert bodies[0]["node"] == "node1"
    discord = wait_until(lambda: [b for p, b in webhook.received if p.startswith("/api/webhooks")
                                  and "First clip" in b["content"]], "Discord's copy")  # fmt: skip
    assert discord[0]["content"] == bodies[0]["text"]
    row = wait_until(reaches(db, failing, "UNEDITED"), "the damaged event to be given back")
    failed = wait_until(lambda: webhook.bodies("event_failed"), "the event-failed notice")
    assert failed[0]["fields"]["event"] == str(failing)
    assert failed[0]["fields"]["title"] == "Damaged"
    assert failed[0]["fields"]["state"] == "UNEDITED"
    assert failed[0]["fields"]["error"] in row.error
    assert failed[0]["text"].startswith(f"Event {failing} ('Damaged') failed on node1: segment ")
    assert cutter.stop() == 0, cutter.output()
