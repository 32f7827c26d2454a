"""``fastseg events edit`` with tags, unlisted, chapters and the team's conventions."""

import json
import re

import pytest

from services.db import states

from .test_cli import events

EDIT = [
    "--video-start", "2026-11-27T17:00:00", "--video-end", "2026-11-27T17:00:30Z",
    "--title", "Big moment", "--channel", "ch", "--location", "clips",
    "--editor", "ed@example.com",
]  # fmt: skip
CHAPTERS = [
    "--chapter", "2026-11-27T17:00:00", "Start",
    "--chapter", "2026-11-27T17:00:10.9", "Middle",
    "--chapter", "2026-11-27T17:00:20", "End",
]  # fmt: skip


@pytest.fixture
def publishing(tmp_path):
    path = tmp_path / "publishing.json"
    path.write_text(
        json.dumps({"title_prefix": "DB - ", "description_footer": "footer", "tags": ["DB"]})
    )
    return str(path)


def table(db):
    return [row._asdict() for row in db.query("SELECT * FROM events ORDER BY id")]


def test_edit_with_tags_unlisted_and_chapters(db, pg_dsn, base, publishing):
    event = events("add", "--sheet-name", "Day 1", "--tags", "a b, c", db=pg_dsn).stdout.strip()
    events(
        "edit", event, *EDIT, "--description", "Text", "--tags", "speedrun,fun", "--unlisted",
        *CHAPTERS, "--publishing", publishing, db=pg_dsn, base=base,
    )  # fmt: skip
    row = states.get_event(db, event)
    assert row.tags == ["a b", "c"]
    assert (row.video_tags, row.public, row.video_title) == (
        ["speedrun", "fun"],
        False,
        "Big moment",
    )
    assert row.video_description == "Text\n==========\n0:00 - Start\n0:10 - Middle\n0:20 - End"


def test_a_draft_keeps_them_as_the_api_would(db, pg_dsn, base):
    event = str(states.add_event(db, "Day 1"))
    events(
        "edit", event, "--draft", "--tags", "x", "--unlisted", *CHAPTERS[:3],
        "--editor", "ed@example.com", db=pg_dsn,
    )  # fmt: skip
    assert states.get_event(db, event).draft == {
        "video_tags": ["x"],
        "public": False,
        "video_chapters": [{"time": "2026-11-27T17:00:00.000000Z", "title": "Start"}],
    }


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        pytest.param(["--title", "t" * 96], "the title is 101 characters with the prefix", id="t"),
        pytest.param(
            ["--description", "d" * 4993],  # and two newlines and "footer"
            "the description is 5001 bytes with the chapters, credit and footer",
            id="description",
        ),
        pytest.param(["--title", "a<b"], "the title contains '<'", id="<"),
        pytest.param(["--description", "a>b"], "the description contains '>'", id=">"),
        pytest.param(
            ["--tags", ",".join(f"{i:03d}" + "t" * 27 for i in range(16)) + ",tt"],
            "the tags \\(with the default tags\\) are 501 characters",  # 480 + 2 + 2 + 17 commas
            id="tags",
        ),
        pytest.param(CHAPTERS[:6], "2 chapter\\(s\\)", id="two chapters"),
        pytest.param(
            [*CHAPTERS, "--chapter", "2026-11-27T17:00:25", "Late"],
            "chapter 'End' at 0:20 lasts 5 s",
            id="short chapter",
        ),
        pytest.param(CHAPTERS[3:], "YouTube needs the first at 0:00", id="first"),
    ],
)
def test_refused_with_the_reason_and_nothing_written(db, pg_dsn, base, publishing, extra, reason):
    event = str(states.add_event(db, "Day 1"))
    before = table(db)
    args = ["edit", event, *EDIT, *extra, "--publishing", publishing]
    proc = events(*args, db=pg_dsn, base=base, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fastseg events: refused, nothing written: ")
    assert re.search(reason, proc.stderr), proc.stderr
    assert table(db) == before


def test_bad_conventions_file_is_refused(db, pg_dsn, base, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "x"}')
    proc = events("edit", "x", *EDIT, "--publishing", str(bad), db=pg_dsn, check=False)
    assert proc.returncode == 2
    assert "unknown keys ['title']" in proc.stderr


def test_bad_chapter_time_is_refused(db, pg_dsn, base):
    proc = events(
        "edit", "x", *EDIT, "--chapter", "noon", "Start", db=pg_dsn, base=base, check=False
    )
    assert proc.returncode == 2
    assert "--chapter: " in proc.stderr
