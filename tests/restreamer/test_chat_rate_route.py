"""``/CHANNEL/chat_rate.json``: counts per 10 s and the moments, and its refusals."""

import pytest

from tests.chat.test_rate import stream, write


@pytest.fixture
def chat_dir(tmp_path):
    folder = tmp_path / "base" / "chan" / "chat"
    write(folder, stream(), "a")
    write(folder, stream()[::2], "b")
    return folder


def test_route_answers_counts_and_moments(chat_dir, make_client):
    client = make_client(chat_dir.parent.parent)
    resp = client.get("/chan/chat_rate.json?start=2026-12-01T20:00:00&end=2026-12-01T20:20:00")
    assert resp.status_code == 200, resp.data
    body = resp.json
    assert (body["start"], body["bin"], body["keywords"]) == ("2026-12-01T20:00:00", 10, ["clip"])
    assert body["counts"][60] == 31
    assert body["hits"][92] == 4
    assert [m["why"] for m in body["moments"]] == ["burst", "burst+keywords"]
    plain = client.get("/chan/chat_rate.json?start=2026-12-01T20:00:00"
                       "&end=2026-12-01T20:20:00&keywords=")  # fmt: skip
    assert sum(plain.json["hits"]) == 0


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("start=2026-12-01T21:00:00&end=2026-12-01T20:00:00", "is not after"),
        ("start=2026-11-01T00:00:00&end=2026-12-01T20:00:00", "range"),
        ("start=2026-12-01T20:00:00", "give both start and end"),
        ("start=2026-12-01T20:00:00&end=2026-12-01T21:00:00&keywords=" + "x" * 41, "40"),
    ],
)
def test_route_refuses_bad_ranges(chat_dir, make_client, query, says):
    resp = make_client(chat_dir.parent.parent).get(f"/chan/chat_rate.json?{query}")
    assert resp.status_code == 400
    assert says in resp.get_data(as_text=True)
