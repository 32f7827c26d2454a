"""An edit with tags, unlisted and chapters across two ranges joined by a crossfade, cut
and uploaded to the YouTube stand-in with the team's conventions (docs/DESIGN.md#publishing)."""

import datetime as dt
import json

import pytest

from services.db import states
from services.db.edit_checks import write_chapters
from tests.media import store_stream
from tests.waiting import wait_until

from .conftest import CHANNEL, QUALITY, T0
from .test_cutter import reaches

NAME = "node1"
FOOTER = "Support the charity: https://example.org"


def at(seconds):
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def long_archive(tmp_path, stream_factory):
    """42 s of real video from T0: room for two ranges and three chapters of 10 s."""
    base = tmp_path / "long"
    store_stream(stream_factory(seconds=42), base, CHANNEL, QUALITY, T0)
    return base


@pytest.fixture
def publishing(tmp_path):
    path = tmp_path / "publishing.json"
    path.write_text(
        json.dumps({"title_prefix": "DB2026 - ", "description_footer": FOOTER, "tags": ["DB"]})
    )
    return path


def edit(db, **changes):
    """An edit as the events API makes it: chapters written into the description first."""
    event = states.add_event(db, "Day 1", tags=["sheet"])
    values = {
        # 18 s and 16 s joined by a 1 s crossfade: a clip of 33 s.
        "video_ranges": [(at(2), at(20)), (at(24), at(40))],
        "video_transitions": [{"type": "crossfade", "seconds": 1}],
        "video_title": "The big moment",
        "video_description": "What happened.",
        "video_channel": CHANNEL,
        "video_quality": QUALITY,
        "upload_location": "yt",
        "editor": "ed@example.com",
        "video_tags": ["speedrun", "Big one"],
        "public": False,
        "video_chapters": [
            (at(2), "Intro"),
            (at(12), "The run"),
            (at(28.5), "Finish"),  # 17 s into the clip where the second range starts, + 4.5
        ],
        **changes,
    }
    states.edit(db, event, **write_chapters(values))
    return event


@pytest.mark.slow
def test_published_as_composed(db, pg_dsn, long_archive, tmp_path, cutters, youtube, publishing):
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config(tags=["from location"])))
    event = edit(db)
    cutters.start(pg_dsn, long_archive, NAME, [f"yt=youtube:{config}"], "--publishing", publishing)
    row = wait_until(reaches(db, event, "TRANSCODING"), "the upload")
    youtube.process(row.video_id)
    row = wait_until(reaches(db, event, "DONE"), "the transcode checker")
    video = youtube.videos[row.video_id]
    assert video["snippet"]["title"] == "DB2026 - The big moment"
    assert video["snippet"]["description"] == (
        "What happened.\n==========\n0:00 - Intro\n0:10 - The run\n0:21 - Finish\n\n" + FOOTER
    )
    assert video["snippet"]["tags"] == ["speedrun", "Big one", "DB", "from location"]
    assert video["status"]["privacyStatus"] == "unlisted"
    # The row keeps the editor's own text: re-opening it shows no additions.
    assert (row.video_title, row.video_tags) == ("The big moment", ["speedrun", "Big one"])


def test_conventions_that_no_longer_fit_are_an_error_never_a_cut(
    db, pg_dsn, long_archive, tmp_path, cutters, youtube
):
    """Conventions changed since the edit: the cutter refuses the job rather than cut the
    title, and uploads nothing."""
    long_prefix = tmp_path / "long.json"
    long_prefix.write_text(json.dumps({"title_prefix": "p" * 90}))
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    event = edit(db, video_chapters=None)
    cutters.start(pg_dsn, long_archive, NAME, [f"yt=youtube:{config}"], "--publishing", long_prefix)
    row = wait_until(reaches(db, event, "UNEDITED"), "the job to be refused")
    assert "the title is 104 characters with the prefix" in row.error
    assert youtube.sessions == {}
