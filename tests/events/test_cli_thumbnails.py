"""``fastseg templates`` and the thumbnail options of ``fastseg events edit``, as subprocesses."""

import json
import subprocess
import sys

import numpy as np
import pytest

from services.db import states
from services.restreamer.png import encode_png

from .test_cli import EDIT, events


def templates(*args, db, check=True):
    cmd = [sys.executable, "-m", "services.templates", "--db", db, *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc


@pytest.fixture
def art(tmp_path):
    path = tmp_path / "art.png"
    path.write_bytes(encode_png(np.zeros((720, 1280, 4), dtype=np.uint8)))
    return path


BOXES = ["--crop", "0,0,320,180", "--location", "320,180,960,540"]


@pytest.mark.slow
def test_templates_add_list_show_replace_remove(pg_dsn, db, art, tmp_path):
    added = templates("add", "frame", str(art), *BOXES, "--attribution", "Ann", db=pg_dsn)
    assert added.stdout.decode() == "template 'frame' added\n"
    again = templates("add", "frame", str(art), *BOXES, db=pg_dsn, check=False)
    assert again.returncode == 1
    assert b"exists already" in again.stderr
    listed = json.loads(templates("list", "--json", db=pg_dsn).stdout)
    assert listed == [{"name": "frame", "description": "", "attribution": "Ann",
                       "crop": [0, 0, 320, 180], "location": [320, 180, 960, 540],
                       "image_bytes": art.stat().st_size}]  # fmt: skip
    assert b"frame" in templates("list", db=pg_dsn).stdout
    out = tmp_path / "back.png"
    shown = json.loads(templates("show", "frame", "--image", str(out), db=pg_dsn).stdout)
    assert shown["attribution"] == "Ann"
    assert out.read_bytes() == art.read_bytes()
    templates("add", "frame", str(art), "--crop", "0,0,160,90", "--location", "0,0,640,360",
              "--replace", db=pg_dsn)  # fmt: skip
    assert json.loads(templates("show", "frame", db=pg_dsn).stdout)["crop"] == [0, 0, 160, 90]
    assert templates("remove", "frame", db=pg_dsn).stdout == b"template 'frame' removed\n"
    gone = templates("show", "frame", db=pg_dsn, check=False)
    assert gone.returncode == 1
    assert b"no template 'frame'" in gone.stderr


@pytest.mark.parametrize(
    ("args", "code", "reason"),
    [
        pytest.param(["add", "x", "{gif}", *BOXES], 2, b"GIF' is not a PNG", id="not png"),
        pytest.param(["add", "x", "{art}", "--crop", "0,0,320,180", "--location", "0,0,2000,10"],
                     2, b"location 0,0,2000,10 reaches outside", id="outside"),
        pytest.param(["add", "x", "{art}", "--crop", "1,2", "--location", "0,0,9,9"], 2,
                     b"box '1,2' is not four whole pixels", id="bad box"),
        pytest.param(["add", "../x", "{art}", *BOXES], 2, b"template name '../x' is not",
                     id="name"),
        pytest.param(["remove", "nobody"], 1, b"no template 'nobody'", id="missing"),
    ],
)  # fmt: skip
def test_bad_template_commands(pg_dsn, db, art, tmp_path, args, code, reason):
    gif = tmp_path / "GIF"
    gif.write_bytes(b"GIF89a")
    args = [a.format(art=art, gif=gif) for a in args]
    proc = templates(*args, db=pg_dsn, check=False)
    assert proc.returncode == code, proc.stderr
    assert reason in proc.stderr
    assert db.query("SELECT name FROM templates") == []


THUMB = [
    "--thumbnail-mode", "TEMPLATE", "--thumbnail-template", "frame",
    "--thumbnail-time", "2026-11-27T17:00:05.5Z", "--thumbnail-crop", "0,0,160,90",
]  # fmt: skip


@pytest.mark.slow
def test_an_edit_with_a_template_thumbnail(pg_dsn, db, base, art):
    templates("add", "frame", str(art), *BOXES, db=pg_dsn)
    event = events("add", "--sheet-name", "Day 1", db=pg_dsn).stdout.strip()
    events("edit", event, *EDIT, *THUMB, db=pg_dsn, base=base)
    row = states.get_event(db, event)
    assert (row.state, row.thumbnail_mode, row.thumbnail_template) == (
        "EDITED",
        "TEMPLATE",
        "frame",
    )
    assert row.thumbnail_crop == [0, 0, 160, 90]
    assert row.thumbnail_location is None  # the template's, when the cutter makes it
    shown = json.loads(events("show", event, "--json", db=pg_dsn).stdout)
    assert shown["thumbnail_time"] == "2026-11-27T17:00:05.500000"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        pytest.param(["--thumbnail-template", "nobody"], "thumbnail_template: no template 'nobody'",
                     id="no such template"),
        pytest.param(["--thumbnail-time", "2026-11-27T19:00:00"], "has no recorded video",
                     id="no frame"),
        pytest.param(["--thumbnail-mode", "CUSTOM", "--thumbnail-image", "{gif}"],
                     "is not a PNG", id="custom not png"),
        pytest.param(["--thumbnail-mode", "BARE", "--thumbnail-time", ""], "", id="empty time"),
    ],
)  # fmt: skip
def test_bad_thumbnail_edits_write_nothing(pg_dsn, db, base, art, tmp_path, extra, reason):
    templates("add", "frame", str(art), *BOXES, db=pg_dsn)
    gif = tmp_path / "GIF"
    gif.write_bytes(b"GIF89a")
    event = events("add", "--sheet-name", "Day 1", db=pg_dsn).stdout.strip()
    extra = [a.format(gif=gif) for a in extra]
    if reason == "":  # argparse's own refusal of the time
        mode = extra[:2]
        proc = events("edit", event, *EDIT, *mode, db=pg_dsn, base=base, check=False)
        reason = "a BARE thumbnail needs thumbnail_time"
    else:
        proc = events("edit", event, *EDIT, *THUMB, *extra, db=pg_dsn, base=base, check=False)
    assert proc.returncode == 2, proc.stderr
    assert reason in proc.stderr
    assert states.get_event(db, event).state == "UNEDITED"
