"""The cutter's thumbnails end to end: made before the cut, set after the upload.

The test stream burns its frame number into every picture, so the region of the
uploaded JPEG where the frame was placed is matched (by mean squared error)
against every frame of the source: it must be the frame at ``thumbnail_time``.
"""

import datetime as dt
import json

import numpy as np
import pytest

from services.db import states
from services.db.thumbnails import put_template, remove_template
from services.restreamer.png import encode_png
from tests.cutting.checks import gray_frames
from tests.restreamer.images import jpeg_pixels, nearest_frame, placed_frame
from tests.waiting import wait_until

from .conftest import T0
from .test_cutter import NAME, add_job, reaches

FPS = 30
THUMB_AT = 6.5  # seconds into the archive: frame 195
WINDOW = (320, 180, 960, 540)  # where the 320x180 frame goes, twice its size
MAGENTA = (255, 0, 255)


def template_png() -> bytes:
    """1280x720 opaque magenta with a transparent window at WINDOW."""
    pixels = np.zeros((720, 1280, 4), dtype=np.uint8)
    pixels[:, :] = (*MAGENTA, 255)
    left, top, right, bottom = WINDOW
    pixels[top:bottom, left:right] = 0
    return encode_png(pixels)


@pytest.fixture
def frames(stream_factory):
    stream = stream_factory(seconds=20)
    return gray_frames(stream.dir / "live.m3u8")


def thumb_time():
    return T0 + dt.timedelta(seconds=THUMB_AT)


@pytest.mark.slow
def test_template_thumbnail_is_set_on_youtube_after_the_video(
    db, pg_dsn, archive, tmp_path, cutters, youtube, frames
):
    put_template(db, "frame", template_png(), crop=(0, 0, 320, 180), location=WINDOW,
                 attribution="Ann", replace=False)  # fmt: skip
    event = add_job(db, "with art", location="yt", thumbnail_mode="TEMPLATE",
                    thumbnail_time=thumb_time(), thumbnail_template="frame")  # fmt: skip
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    row = wait_until(reaches(db, event, "TRANSCODING"), "the upload")
    wait_until(lambda: states.get_event(db, event).thumbnail_last_written, "the thumbnail")
    kind, jpeg = youtube.thumbnails[row.video_id]
    assert kind == "image/jpeg"
    # The template's artist is credited below the editor's text (docs/DESIGN.md#publishing).
    published = youtube.videos[row.video_id]["snippet"]["description"]
    assert published == "about with art\n\nThumbnail art by Ann"
    assert len(jpeg) < 2 * 1024 * 1024
    assert nearest_frame(placed_frame(jpeg, WINDOW), frames) == round(THUMB_AT * FPS)
    outside = jpeg_pixels(jpeg, "rgb24").astype(np.int16)
    assert np.abs(outside[:150, :, :] - MAGENTA).max() < 24  # the artwork, JPEG-close
    assert np.abs(outside[570:, :, :] - MAGENTA).max() < 24
    youtube.process(row.video_id)
    done = wait_until(reaches(db, event, "DONE"), "the transcode checker")
    assert done.error is None
    assert bytes(done.thumbnail_last_written) == jpeg


@pytest.mark.slow
def test_bare_thumbnail_beside_a_local_clip(db, pg_dsn, archive, tmp_path, cutters, frames):
    out = tmp_path / "clips"
    event = add_job(db, "Bare", thumbnail_mode="BARE", thumbnail_time=thumb_time())
    cutters.start(pg_dsn, archive, NAME, [f"clips=local:{out};sidecar"])
    wait_until(lambda: states.get_event(db, event).thumbnail_last_written, "the thumbnail")
    row = states.get_event(db, event)
    assert row.state == "DONE"
    stem = f"Bare-{row.video_id}"
    jpeg = (out / f"{stem}.jpg").read_bytes()
    assert jpeg == bytes(row.thumbnail_last_written)
    assert json.loads((out / f"{stem}.json").read_text())["thumbnail"] == f"{stem}.jpg"
    # the whole frame, scaled to 1280x720
    assert nearest_frame(placed_frame(jpeg, (0, 0, 1280, 720)), frames) == round(THUMB_AT * FPS)
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}.jpg", f"{stem}.json", f"{stem}.ts"]


@pytest.mark.slow
def test_a_failed_thumbnail_is_an_error_on_the_event_not_a_lost_video(
    db, pg_dsn, archive, tmp_path, cutters, youtube
):
    youtube.thumbnail_failure = (403, "forbidden")
    event = add_job(db, "no art", location="yt", thumbnail_mode="BARE", thumbnail_time=thumb_time())
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    cutter = cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    cutter.wait_log("thumbnail not set")
    row = wait_until(reaches(db, event, "TRANSCODING"), "the upload")
    assert list(youtube.videos) == [row.video_id]  # the video is there
    youtube.process(row.video_id)
    row = wait_until(reaches(db, event, "DONE"), "the transcode checker")
    assert "the video is uploaded" in row.error
    assert "its thumbnail could not be set: YouTube thumbnails.set failed" in row.error
    assert row.thumbnail_last_written is None
    assert youtube.thumbnails == {}
    assert cutter.proc.poll() is None


@pytest.mark.slow
def test_a_template_gone_before_the_cut_fails_the_job_before_any_upload(
    db, pg_dsn, archive, tmp_path, cutters, youtube
):
    put_template(db, "gone", template_png(), crop=(0, 0, 320, 180), location=WINDOW,
                 replace=False)  # fmt: skip
    event = add_job(db, "orphan", location="yt", thumbnail_mode="TEMPLATE",
                    thumbnail_time=thumb_time(), thumbnail_template="gone")  # fmt: skip
    remove_template(db, "gone")
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    row = wait_until(
        lambda: (r := states.get_event(db, event)).state == "UNEDITED" and r.error and r,
        "the job to fail",
    )
    assert "no template 'gone'" in row.error
    assert youtube.sessions == {}  # no upload was started
