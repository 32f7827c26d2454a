"""``/coverage/CH.svg`` and ``.json`` through Flask's test client over generated trees."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from services.archive import coverage
from tests.restreamer.trees import make_tree

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)


@pytest.fixture
def client(tmp_path, make_client):
    coverage.clear_cache()
    base = tmp_path / "base"
    make_tree(base, "ch", "source", T0, 10)  # 17:59:50 to 18:00:10
    make_tree(base, "ch", "low", T0, 10, holes=frozenset({4, 5}))  # no 17:59:58 .. 18:00:02
    make_tree(base, "ch", "low", T0 + dt.timedelta(seconds=20), 2, type="partial")
    (base / "empty").mkdir()
    yield make_client(base)
    coverage.clear_cache()


def test_json_has_a_cell_per_quality_and_hour(client):
    body = client.get("/coverage/ch.json").json
    assert body["start"] == "2026-11-27T17:00:00Z"
    assert body["end"] == "2026-11-27T19:00:00Z"
    assert sorted(body["qualities"]) == ["low", "source"]
    low17, low18 = body["qualities"]["low"]
    assert low17["hour"] == "2026-11-27T17:00:00Z"
    assert low17["full_seconds"] == 8.0
    assert low17["holes"][-1] == {"start": "2026-11-27T17:59:58Z", "seconds": 2.0}
    assert low18["holes"][0] == {"start": "2026-11-27T18:00:00Z", "seconds": 2.0}
    assert low18["full_seconds"] == 8.0
    assert low18["partial_seconds"] == 4.0
    source18 = body["qualities"]["source"][1]
    assert source18["full_seconds"] == 10.0
    assert source18["segments"] == 5


def test_svg_is_a_map_with_hover_text(client):
    response = client.get("/coverage/ch.svg?quality=low")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    groups = list(root.iter("{http://www.w3.org/2000/svg}g"))
    assert [g.get("data-hour") for g in groups] == ["2026-11-27T17", "2026-11-27T18"]
    title = groups[1].find("{http://www.w3.org/2000/svg}title").text
    assert "2026-11-27T18:00:00Z for 2 s" in title
    assert "4.0 s partial or suspect" in title


def test_an_explicit_range_is_whole_hours(client):
    body = client.get("/coverage/ch.json?start=2026-11-27T12:30:00&end=2026-11-27T14:00:00").json
    hours = [c["hour"] for c in body["qualities"]["source"]]
    assert hours == ["2026-11-27T12:00:00Z", "2026-11-27T13:00:00Z"]
    assert body["qualities"]["source"][0]["hole_seconds"] == 3600.0


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/coverage/nope.svg", 404, "no channel 'nope'"),
        ("/coverage/empty.json", 404, "no hours of video in channel 'empty'"),
        ("/coverage/ch.svg?quality=720p", 404, "no quality '720p'"),
        ("/coverage/ch.svg?quality=..", 400, "starts with '.'"),
        ("/coverage/.hidden.svg", 400, "starts with '.'"),
        ("/coverage/a%5Cb.json", 400, "contains"),
        ("/coverage/ch.svg?start=2026-11-27T17:00:00", 400, "give both start and end"),
        ("/coverage/ch.svg?start=2026-11-27T17:00:00&end=soon", 400, "end"),
        ("/coverage/ch.svg?start=2026-11-27T17:00:00&end=2026-11-26T17:00:00", 400,
         "before start"),
        ("/coverage/ch.svg?start=2026-11-01T00:00:00&end=2026-11-27T17:00:00", 400,
         "longer than"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_a_one_line_reason(client, url, status, reason):
    response = client.get(url)
    assert response.status_code == status, response.text
    assert "\n" not in response.text.strip()
    assert reason in response.text, response.text


def test_without_a_range_the_latest_hours_up_to_the_limit(tmp_path, make_client):
    base = tmp_path / "base"
    for hour in range(4):
        make_tree(base, "ch", "source", T0 + dt.timedelta(hours=hour), 1)
    client = make_client(base, MAX_RANGE=dt.timedelta(hours=2))
    body = client.get("/coverage/ch.json").json
    hours = [c["hour"] for c in body["qualities"]["source"]]
    assert hours == ["2026-11-27T19:00:00Z", "2026-11-27T20:00:00Z"]  # hours 17 to 20 on disk
