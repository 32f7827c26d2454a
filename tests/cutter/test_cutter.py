"""The cutter service end to end: real PostgreSQL, real segments, real ffmpeg, subprocesses."""

import datetime as dt
import json
import os

import pytest

from services.db import audit, states
from tests.cutter.processes import free_port
from tests.media import ffprobe_json
from tests.waiting import wait_until

from .conftest import CHANNEL, QUALITY, T0

NAME = "node1"


def add_job(db, title, start=3, end=9, location="clips", **edit):
    event = states.add_event(db, f"sheet {title}", category="speedrun")
    states.edit(
        db,
        event,
        video_start=T0 + dt.timedelta(seconds=start),
        video_end=T0 + dt.timedelta(seconds=end),
        video_title=title,
        video_description=f"about {title}",
        video_channel=CHANNEL,
        video_quality=QUALITY,
        upload_location=location,
        editor="ed@example.com",
        **edit,
    )
    return event


def state_of(db, event):
    return states.get_event(db, event)


def reaches(db, event, *wanted):
    def check():
        row = state_of(db, event)
        return row if row.state in wanted else None

    return check


def test_cuts_and_uploads_to_a_local_location(db, pg_dsn, archive, tmp_path, cutters):
    out = tmp_path / "clips"
    port = free_port()
    event = add_job(db, "First clip", video_tags=["speedrun"], public=False)
    cutter = cutters.start(
        pg_dsn, archive, NAME, [f"clips=local:{out};url=https://c.example/;sidecar"],
        "--metrics-port", str(port),
    )  # fmt: skip
    row = wait_until(reaches(db, event, "DONE"), "the event to be DONE")
    assert row.uploader == NAME
    assert row.error is None
    assert row.upload_time is not None
    name = f"First clip-{row.video_id}.ts"
    assert row.video_link == f"https://c.example/First%20clip-{row.video_id}.ts"
    video = out / name
    probe = ffprobe_json(video, "-show_format", "-show_streams")
    assert probe["format"]["format_name"] == "mpegts"
    assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
    # Six seconds asked for: frame-exact within a frame or two of container rounding.
    assert abs(float(probe["format"]["duration"]) - 6.0) < 0.1
    sidecar = json.loads((out / f"First clip-{row.video_id}.json").read_text())
    assert sidecar == {
        "title": "First clip",
        "description": "about First clip",
        "tags": ["speedrun"],
        "privacy": "unlisted",
    }
    assert sorted(os.listdir(out)) == sorted([name, f"First clip-{row.video_id}.json"])
    metrics = cutter.metrics(port)
    assert (
        'fastseg_cutter_videos_uploaded_total{channel="ch",final_state="DONE",location="clips",'
        'quality="source"} 1.0' in metrics
    )
    assert 'fastseg_cutter_cut_seconds_count{location="clips"} 1.0' in metrics
    assert cutter.stop() == 0
    # The audit trail: each of the cutter's state changes once, under its name.
    trail = audit.history(db, "events", str(event))
    assert [(r.actor, r.new_values.get("state")) for r in trail[2:]] == [
        ("cutter:node1", "CLAIMED"),
        ("cutter:node1", "FINALIZING"),
        ("cutter:node1", "DONE"),
    ]
    assert trail[-1].new_values["video_link"] == row.video_link
    (served,) = audit.history(db, "locations", "node1/clips")
    assert (served.actor, served.new_values["backend"]) == ("cutter:node1", "local")


def test_holes_whitelists_and_locations(db, pg_dsn, holey_archive, tmp_path, cutters):
    out = tmp_path / "clips"
    holey = add_job(db, "holey", start=8, end=14)
    allowed = add_job(db, "allowed", start=8, end=14, allow_holes=True)
    nowhere = add_job(db, "nowhere", start=3600, end=3610)  # no video here at all
    not_us = add_job(db, "not us", uploader_whitelist=["node2"])
    us = add_job(db, "us", uploader_whitelist=["node2", NAME])
    other_location = add_job(db, "elsewhere", location="youtube")
    cutters.start(pg_dsn, holey_archive, NAME, [f"clips=local:{out}"])

    wait_until(reaches(db, allowed, "DONE"), "the allow_holes event to be cut")
    wait_until(reaches(db, us, "DONE"), "the whitelisted event to be cut")
    row = wait_until(lambda: state_of(db, holey).error, "the holes error")
    assert "no complete video from 2026-11-27T18:00:00" in row
    assert "allow_holes" in row
    assert state_of(db, holey).state == "EDITED"
    for event in (nowhere, not_us, other_location):
        row = state_of(db, event)
        assert (row.state, row.error, row.uploader) == ("EDITED", None, None)
    cut = out / f"allowed-{state_of(db, allowed).video_id}.ts"
    assert abs(float(ffprobe_json(cut, "-show_format")["format"]["duration"]) - 6.0) < 0.2


def test_full_cut_location(db, pg_dsn, archive, tmp_path, cutters):
    out = tmp_path / "clips"
    event = add_job(db, "full", start=2, end=6)
    cutters.start(pg_dsn, archive, NAME, [f"clips=local:{out};full=container=mp4,crf=30"])
    row = wait_until(reaches(db, event, "DONE"), "the full cut")
    probe = ffprobe_json(out / f"full-{row.video_id}.mp4", "-show_format")
    assert "mp4" in probe["format"]["format_name"]
    assert abs(float(probe["format"]["duration"]) - 4.0) < 0.1


def test_restart_recovers_its_own_rows(db, pg_dsn, archive, tmp_path, cutters):
    mine = add_job(db, "mine")
    states.claim(db, state_of(db, mine), NAME)
    flagged = add_job(db, "flagged")
    states.claim(db, state_of(db, flagged), NAME)
    states.finalizing(db, flagged, NAME)
    theirs = add_job(db, "theirs", uploader_whitelist=["node2"])
    states.claim(db, state_of(db, theirs), "node2")

    cutters.start(pg_dsn, archive, NAME, [f"clips=local:{tmp_path / 'clips'}"])
    wait_until(reaches(db, mine, "DONE"), "our old claim to be cut again")
    row = state_of(db, flagged)
    assert row.state == "FINALIZING"
    assert "restarted while this upload was finalizing" in row.error
    assert "manual-upload" in row.error
    assert state_of(db, theirs).state == "CLAIMED"


def test_cut_failure_is_not_retried(db, pg_dsn, tmp_path, cutters):
    base = tmp_path / "base"
    hour = base / CHANNEL / QUALITY / "2026-11-27T18"
    hour.mkdir(parents=True)
    # A "segment" that is not video: the cut fails with ffmpeg's complaint.
    from tests.media import store_segment  # noqa: PLC0415

    for i in range(5):
        store_segment(base, CHANNEL, QUALITY, T0 + dt.timedelta(seconds=2 * i), 2, b"junk %d" % i)
    event = add_job(db, "junk", start=1, end=7)
    port = free_port()
    cutter = cutters.start(
        pg_dsn, base, NAME, [f"clips=local:{tmp_path / 'clips'}"], "--metrics-port", str(port)
    )
    row = wait_until(reaches(db, event, "UNEDITED"), "the failed event to be given back")
    assert row.uploader == NAME  # kept, to say who failed
    assert row.error.startswith(f"cutter {NAME!r}: ")
    assert "neither MPEG-TS nor fragmented MP4" in row.error
    assert not (tmp_path / "clips").exists() or os.listdir(tmp_path / "clips") == []
    assert (
        'fastseg_cutter_upload_errors_total{channel="ch",final_state="UNEDITED",'
        'location="clips",quality="source"} 1.0' in cutter.metrics(port)
    )
    assert cutter.proc.poll() is None  # one bad job does not stop the cutter


def test_youtube_upload_then_transcoding_then_done(db, pg_dsn, archive, tmp_path, cutters, youtube):
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config(privacy="unlisted")))
    event = add_job(db, "to youtube", location="yt")
    cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    row = wait_until(reaches(db, event, "TRANSCODING"), "the upload")
    assert list(youtube.videos) == [row.video_id]
    assert youtube.videos[row.video_id]["snippet"]["title"] == "to youtube"
    assert youtube.puts >= 2  # more than one chunk: the cut streamed through
    youtube.process(row.video_id)
    row = wait_until(reaches(db, event, "DONE"), "the transcode checker")
    assert row.video_link == f"{youtube.url}/watch?v={row.video_id}"


def test_cancel_mid_cut_abandons_the_upload(db, pg_dsn, archive, tmp_path, cutters, youtube):
    import threading  # noqa: PLC0415

    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.put_gate = threading.Event()
    event = add_job(db, "cancelled", location="yt")
    cutter = cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    wait_until(lambda: youtube.sessions, "the upload to start")
    states.cancel(db, event)
    youtube.put_gate.set()
    cutter.wait_log("no longer ours; abandoned")
    assert youtube.videos == {}
    assert state_of(db, event).state == "UNEDITED"
    assert cutter.proc.poll() is None  # carries on
    assert cutter.stop() == 0


def test_row_lost_after_the_upload_was_final_exits(db, pg_dsn, archive, tmp_path, cutters, youtube):
    import threading  # noqa: PLC0415

    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.final_gate = threading.Event()
    event = add_job(db, "lost", location="yt")
    cutter = cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    wait_until(reaches(db, event, "FINALIZING"), "finalizing")
    states.reset(db, event)  # an operator who should have waited
    youtube.final_gate.set()
    assert cutter.proc.wait(60) == 1
    assert "is no longer ours in the database" in cutter.output()
    assert len(youtube.videos) == 1


def test_bad_arguments(tmp_path, cutters, pg_dsn):
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "services.cutter", *args], capture_output=True, text=True
        )

    bad = run("--name", "n", "--db", pg_dsn, "--location", "clips=ftp:/x")
    assert bad.returncode == 2
    assert "backend 'ftp' is not one of local, youtube" in bad.stderr
    bad = run(
        "--name",
        "n",
        "--db",
        pg_dsn,
        "--location",
        f"c=local:{tmp_path}",
        "--location",
        f"c=local:{tmp_path}",
    )
    assert bad.returncode == 2
    assert "location 'c' is given twice" in bad.stderr
    bad = run("--db", pg_dsn, "--location", f"c=local:{tmp_path}")
    assert bad.returncode == 2
    assert "--name" in bad.stderr


def test_unconfirmed_final_chunk_stays_finalizing_with_an_error(
    db, pg_dsn, archive, tmp_path, cutters, youtube
):
    import threading  # noqa: PLC0415

    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config(resume_attempts=1)))
    youtube.final_gate = threading.Event()
    event = add_job(db, "unconfirmed", location="yt")
    cutter = cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    wait_until(reaches(db, event, "FINALIZING"), "finalizing")
    youtube.drop_after = 0  # the held last chunk dies, and so does every question after it
    youtube.down = True
    youtube.final_gate.set()
    row = wait_until(lambda: state_of(db, event).error and state_of(db, event), "the error")
    assert row.state == "FINALIZING"
    assert "could not be confirmed" in row.error
    assert "the video may exist" in row.error
    assert cutter.proc.poll() is None


@pytest.mark.slow
def test_sigterm_mid_cut_returns_the_row(db, pg_dsn, archive, tmp_path, cutters, youtube):
    import threading  # noqa: PLC0415

    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.put_gate = threading.Event()
    event = add_job(db, "interrupted", location="yt")
    cutter = cutters.start(pg_dsn, archive, NAME, [f"yt=youtube:{config}"])
    wait_until(lambda: youtube.sessions, "the upload to start")
    cutter.proc.terminate()
    youtube.put_gate.set()
    assert cutter.stop() == 0
    row = state_of(db, event)
    assert (row.state, row.uploader) == ("EDITED", None)
    assert youtube.videos == {}
