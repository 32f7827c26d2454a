"""The cutter cuts an event of several ranges, with a transition, to DONE."""

import datetime as dt

import pytest

from services.db import states
from tests.media import ffprobe_json
from tests.waiting import wait_until

from .conftest import CHANNEL, QUALITY, T0
from .test_cutter import NAME, reaches


def t(seconds):
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("full", [False, True], ids=["fast", "full"])
def test_cuts_several_ranges_with_a_crossfade(db, pg_dsn, archive, tmp_path, cutters, full):
    event = states.add_event(db, "ranges")
    states.edit(
        db, event, video_title="ranges", video_channel=CHANNEL, video_quality=QUALITY,
        upload_location="clips", editor="ed@example.com",
        video_ranges=[(t(1), t(4)), (t(7), t(10)), (t(13), t(16.5))],
        video_transitions=[None, {"type": "crossfade", "seconds": 1}],
    )  # fmt: skip
    location = f"clips=local:{tmp_path / 'clips'}"
    if full:
        location += ";full=container=ts,crf=30"
    cutters.start(pg_dsn, archive, NAME, [location])
    row = wait_until(reaches(db, event, "DONE", "UNEDITED"), "the event to be cut")
    assert (row.state, row.error) == ("DONE", None)
    cut = tmp_path / "clips" / f"ranges-{row.video_id}.ts"
    probe = ffprobe_json(cut, "-show_format", "-count_frames", "-show_streams")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    # 3 + 3 + 3.5 s, less the 1 s the crossfade overlaps: 8.5 s at 30 fps
    assert int(video["nb_read_frames"]) == 255
