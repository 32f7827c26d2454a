"""What is published: the conventions composed with an editor's text, YouTube's limits."""

import json
import re

import pytest

from services.db.publishing import (
    Conventions,
    Published,
    check_published,
    compose,
    load_conventions,
    tags_length,
)

TEAM = Conventions("DB2026 - ", "Support the charity at https://example.org", ("marathon", "DB"))


def test_compose_adds_prefix_footer_and_default_tags():
    description = "What happened.\n==========\n0:00 - a\n0:10 - b\n0:20 - c"
    published = compose(TEAM, "Big moment", description, ["speedrun", "db", "Big one"])
    assert published == Published(
        "DB2026 - Big moment",
        description + "\n\nSupport the charity at https://example.org",
        ("speedrun", "db", "Big one", "marathon"),  # each once, whatever its case
    )


def test_compose_leaves_room_for_playlists_and_the_thumbnail_credit():
    published = compose(
        TEAM, "t", "text", None, playlist_lines=["- Best of [link]"], thumbnail_attribution="Ann"
    )
    assert published.description == (
        "text\n\n- Best of [link]\nThumbnail art by Ann\nSupport the charity at https://example.org"
    )
    assert compose(Conventions(), "t", "", None) == Published("t", "", ())
    assert compose(TEAM, "t", "", None).description == TEAM.description_footer


@pytest.mark.parametrize(
    ("tags", "length"),
    [
        pytest.param([], 0, id="none"),
        pytest.param(["Foo-Baz"], 7, id="one"),
        pytest.param(["Foo Baz"], 9, id="a space: counted quoted"),
        pytest.param(["a", "b c", "d"], 1 + 5 + 1 + 2, id="commas between"),
    ],
)
def test_tags_length_counts_as_youtube_does(tags, length):
    assert tags_length(tags) == length


def test_within_the_limits():
    fits = Published("t" * 100, "é" * 2500, tuple(["x" * 49] * 10))  # 490 + 9 commas
    assert check_published(fits) == []


@pytest.mark.parametrize(
    ("published", "message"),
    [
        pytest.param(Published("t" * 101, "", ()), "title is 101 characters", id="title"),
        pytest.param(Published("t", "d" * 5001, ()), "description is 5001 bytes", id="desc"),
        pytest.param(Published("t", "é" * 2501, ()), "description is 5002 bytes", id="bytes"),
        pytest.param(Published("a <b>", "", ()), "title contains '<' and '>'", id="title <>"),
        pytest.param(Published("t", "x > y", ()), "description contains '>'", id="desc >"),
        pytest.param(Published("t", "", ("x" * 50,) * 10), "tags .* are 509 characters", id="tag"),
    ],
)
def test_over_the_limits(published, message):
    problems = check_published(published)
    assert len(problems) == 1
    assert re.search(message, problems[0]), problems


def test_load_conventions(tmp_path):
    path = tmp_path / "publishing.json"
    path.write_text(json.dumps({"title_prefix": "DB - ", "tags": ["a"]}))
    assert load_conventions(str(path)) == Conventions("DB - ", "", ("a",))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{", "cannot read the publishing conventions", id="not json"),
        pytest.param("[]", "is not a JSON object", id="a list"),
        pytest.param('{"prefix": "x"}', "unknown keys \\['prefix'\\]", id="unknown key"),
        pytest.param('{"title_prefix": 3}', "title_prefix 3 is not a string", id="not text"),
        pytest.param('{"tags": "a,b"}', "tags 'a,b' is not a list", id="tags text"),
        pytest.param('{"tags": [""]}', "is not a list of non-empty strings", id="empty tag"),
        pytest.param(
            json.dumps({"title_prefix": "p" * 100}), "title is 101 characters", id="no room"
        ),
        pytest.param(json.dumps({"description_footer": "<b>"}), "contains '<'", id="footer <"),
    ],
)
def test_bad_conventions_are_refused(tmp_path, content, message):
    path = tmp_path / "publishing.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_conventions(str(path))
