"""The events API's publishing inputs: tags, public, chapters, and the limits of what is
published with the team's conventions (docs/DESIGN.md#publishing).

Every refused edit is checked to have written nothing.
"""

import json
import re

import pytest

from services.db import states
from tests.servers import ServerProcess

from .conftest import CHANNEL, QUALITY, TOKENS, Client
from .test_api import new_event, table

PREFIX = "DB2026 - "  # 9 characters
FOOTER = "Support the charity: https://example.org"  # 40 characters
DEFAULT_TAGS = ["marathon", "Desert Bus"]  # 8 + 12 (quoted) + a comma = 21 characters

# 40 s from the archive's start: past its 20 s of video, so holes are allowed.
EDIT = {
    "video_start": "2026-11-27T16:59:52Z",
    "video_end": "2026-11-27T17:00:32Z",
    "video_title": "A clip",
    "video_description": "what happened",
    "video_channel": CHANNEL,
    "video_quality": QUALITY,
    "upload_location": "clips",
    "allow_holes": True,
}
CHAPTERS = [
    {"time": "2026-11-27T16:59:52Z", "title": "Intro"},
    {"time": "2026-11-27T17:00:05.5Z", "title": "The run"},
    {"time": "2026-11-27T17:00:20Z", "title": "Finish"},
]


@pytest.fixture(scope="module")
def api(module_dsn, archive_base, tmp_path_factory):
    """One restreamer with the team's conventions for the module's tests."""
    folder = tmp_path_factory.mktemp("publishing")
    (folder / "editors.txt").write_text(TOKENS)
    conventions = folder / "publishing.json"
    conventions.write_text(
        json.dumps({"title_prefix": PREFIX, "description_footer": FOOTER, "tags": DEFAULT_TAGS})
    )
    server = ServerProcess(
        archive_base, "--db", module_dsn, "--editor-token-file", str(folder / "editors.txt"),
        "--publishing", str(conventions),
    )  # fmt: skip
    yield Client(server)
    server.stop()


@pytest.fixture
def db(module_db):
    """The module's database, with a cutter serving 'clips'."""
    return module_db


def test_the_conventions_are_served_for_the_page(api):
    assert api.get("/api/publishing").json() == {
        "title_prefix": PREFIX,
        "description_footer": FOOTER,
        "tags": DEFAULT_TAGS,
        "limits": {"title_characters": 100, "description_bytes": 5000, "tags_characters": 500},
        "chapters": {"delimiter": "==========", "min_count": 3, "min_seconds": 10},
    }


def test_an_edit_with_tags_unlisted_and_chapters(api, db):
    event = new_event(db, tags=["sheet tag"])
    body = {**EDIT, "video_tags": ["speedrun", " Big one "], "public": False}
    response = api.post(f"/api/events/{event}/edit", {**body, "video_chapters": CHAPTERS})
    assert response.status_code == 200, response.text
    row = api.get(f"/api/events/{event}").json()
    assert row["tags"] == ["sheet tag"]
    assert row["video_tags"] == ["speedrun", "Big one"]
    assert row["public"] is False
    # The editor's own text: no prefix, no footer; the chapters in the clip's time.
    assert row["video_title"] == "A clip"
    assert row["video_description"] == (
        "what happened\n==========\n0:00 - Intro\n0:13 - The run\n0:28 - Finish"
    )
    # Sent back as it is stored (a client that does not know chapters), it is the same.
    again = api.post(
        f"/api/events/{event}/edit", {**body, "video_description": row["video_description"]}
    )
    assert again.status_code == 200, again.text
    assert again.json()["video_description"] == row["video_description"]


def test_public_by_default(api, db):
    event = new_event(db)
    response = api.post(f"/api/events/{event}/edit", EDIT)
    assert response.status_code == 200, response.text
    assert (response.json()["public"], response.json()["video_tags"]) == (True, [])


def test_a_new_event_carries_the_sheet_tags(api):
    response = api.post("/api/events", {"sheet_name": "Day 1", "tags": ["a b", "c"]})
    assert response.status_code == 201, response.text
    assert response.json()["tags"] == ["a b", "c"]


def test_a_draft_keeps_the_chapters_as_given(api, db):
    event = new_event(db)
    draft = {"video_tags": ["x"], "public": False, "video_chapters": CHAPTERS[:1]}
    response = api.post(f"/api/events/{event}/draft", draft)
    assert response.status_code == 200, response.text
    assert states.get_event(db, event).draft == draft


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {"video_title": "t" * 92}, "the title is 101 characters with the prefix", id="title"
        ),
        pytest.param(
            {"video_description": "d" * 4959},
            "the description is 5001 bytes with the chapters, credit and footer",
            id="description with the footer",
        ),
        pytest.param(
            {"video_description": "d" * 4906, "video_chapters": CHAPTERS},
            "the description is 5001 bytes",  # 4906 + 53 of chapters + 2 + 40 of footer
            id="description with the chapters",
        ),
        pytest.param({"video_title": "a <b>"}, "the title contains '<' and '>'", id="title <>"),
        pytest.param({"video_description": "x > y"}, "description contains '>'", id="desc >"),
        pytest.param(
            {"video_tags": [f"{i:02d}" + "t" * 28 for i in range(15)] + ["t" * 14]},
            # 15 x 30 + 14, the defaults' 8 + 12, and 17 commas
            "the tags \\(with the default tags\\) are 501 characters",
            id="tags",
        ),
        pytest.param(
            {"video_chapters": CHAPTERS[1:] + [{"time": "2026-11-27T17:00:30Z", "title": "z"}]},
            "YouTube needs the first at 0:00",
            id="first chapter not at the start",
        ),
        pytest.param(
            {"video_chapters": CHAPTERS[:2]}, "2 chapter\\(s\\): YouTube shows", id="two chapters"
        ),
        pytest.param(
            {"video_chapters": [*CHAPTERS, {"time": "2026-11-27T17:00:25Z", "title": "z"}]},
            "chapter 'Finish' at 0:28 lasts 5 s",
            id="a short chapter",
        ),
        pytest.param(
            {"video_chapters": [*CHAPTERS, {"time": "2026-11-27T17:00:40Z", "title": "z"}]},
            "chapter time 2026-11-27T17:00:40 is in none of the clip's ranges",
            id="outside the range",
        ),
        pytest.param(
            {"video_description": "a\n==========\nb", "video_chapters": CHAPTERS},
            "the description holds ==========",
            id="delimiter typed",
        ),
        pytest.param(
            {"video_description": "a\n==========\n0:00 - a\n0:05 - b\n0:20 - c"},
            "chapter 'a' at 0:00 lasts 5 s",
            id="chapters typed are checked too",
        ),
        pytest.param({"video_tags": "a,b"}, "video_tags 'a,b' is not a list", id="tags text"),
        pytest.param({"video_tags": ["a,b"]}, "tag 'a,b' is empty or has a comma", id="comma"),
        pytest.param({"video_tags": [" "]}, "is empty or has a comma", id="empty tag"),
        pytest.param({"public": "no"}, "public 'no' is not true or false", id="public"),
        pytest.param(
            {"video_chapters": [{"time": "2026-11-27T17:00:00Z"}]},
            'is not a list of {"time": T, "title": TEXT}',
            id="chapter without title",
        ),
        pytest.param(
            {"video_chapters": [{"time": "noon", "title": "a"}]}, "video_chapters", id="bad time"
        ),
    ],
)
def test_refused_with_the_reason_and_nothing_written(api, db, changes, reason):
    event = new_event(db)
    before = table(db)
    response = api.post(f"/api/events/{event}/edit", {**EDIT, **changes})
    assert response.status_code == 400, response.text
    assert re.search(reason, response.json()["error"]), response.json()["error"]
    assert table(db) == before
