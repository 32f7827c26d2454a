"""The chat routes: listings and batches for backfillers, and ``/CHANNEL/chat.json``."""

import shutil
from pathlib import Path

import pytest

from services.archive import chat
from tests.restreamer.trees import make_tree

FIXTURES = Path(__file__).parents[1] / "chat" / "fixtures"
HOUR = "2025-12-06T05"


@pytest.fixture
def base(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(FIXTURES, base)
    hour_dir = base / "chan" / "chat" / HOUR
    (hour_dir / ".46:00-x.json.1234.temp").write_bytes(b"partial")
    (hour_dir / "notes.txt").write_bytes(b"not a batch")
    return base


@pytest.fixture
def client(base, make_client):
    return make_client(base)


def test_chat_listings(client, base):
    assert client.get("/files/chan/chat").json == [HOUR]
    names = client.get(f"/files/chan/chat/{HOUR}").json
    assert names == sorted(p.name for p in (base / "chan" / "chat" / HOUR).glob("46:00-*.json"))
    assert len(names) == 2
    assert client.get("/files/nobody/chat").json == []
    assert client.get("/files/chan/chat/2025-12-06T06").json == []


def test_chat_is_not_a_quality(client, base):
    import datetime as dt  # noqa: PLC0415

    make_tree(base, "chan", "source", dt.datetime(2025, 12, 6, 5, 46), 2, size=100)
    assert client.get("/files").json == ["chan"]
    assert client.get("/files/chan").json == ["source"]


def test_batches_are_served_as_stored(client, base):
    for path in (base / "chan" / "chat" / HOUR).glob("46:00-*.json"):
        for prefix in ("/files", "/segments"):
            resp = client.get(f"{prefix}/chan/chat/{HOUR}/{path.name}")
            assert resp.status_code == 200
            assert resp.data == path.read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        f"/files/chan/chat/{HOUR}/notes.txt",
        "/files/chan/chat/2025-12-06/46:00-" + "A" * 43 + ".json",
        "/files/.hidden/chat",
        f"/segments/chan/chat/{HOUR}/46:01-" + "A" * 43 + ".json",
    ],
)
def test_bad_names_are_400(client, url):
    resp = client.get(url)
    assert resp.status_code == 400, resp.data


def test_a_climbing_name_matches_no_route(client):
    resp = client.get(f"/files/chan/chat/{HOUR}/..%2F..%2F..%2Fetc%2Fpasswd")
    assert resp.status_code == 404
    assert b"root:" not in resp.data


def test_a_missing_batch_is_404_with_advice(client):
    resp = client.get(f"/files/chan/chat/{HOUR}/46:00-" + "A" * 43 + ".json")
    assert resp.status_code == 404
    assert b"list the hour again" in resp.data


def test_chat_json_merges_and_selects_by_range(client, base):
    resp = client.get("/chan/chat.json?start=2025-12-06T05:46:40&end=2025-12-06T05:46:45")
    assert resp.status_code == 200
    got = resp.json
    files = [chat.read_batch(str(p)) for p in (base / "chan" / "chat" / HOUR).glob("*.json")]
    merged = chat.merge(*files)
    assert len(got) == 3  # m1 (once), the ROOMSTATE and the JOIN; m2 is at 05:46:50.5
    expected = [m for m in merged if m["tags"].get("id") != "m2"]
    assert chat.format_batch(got) == chat.format_batch(expected)
    # each message as its canonical line: the lines as read, or the merged one encoded
    assert resp.data == ("[" + ",".join(chat.encode(m) for m in got) + "]\n").encode()
    assert [m["time"] for m in got] == sorted(m["time"] for m in got)
    (m1,) = [m for m in got if m["command"] == "PRIVMSG"]
    assert len(m1["receivers"]) == 2
    later = client.get("/chan/chat.json?start=2025-12-06T05:46:50&end=2025-12-06T05:47:00").json
    assert [m["tags"].get("id") for m in later if m["command"] == "PRIVMSG"] == ["m2"]
    # the JOIN's merged range reaches 05:46:57.5; the ROOMSTATE's ends at 05:46:50.5
    assert {m["command"] for m in later} == {"PRIVMSG", "JOIN", "ROOMSTATE"}
    assert (
        client.get("/chan/chat.json?start=2025-12-06T07:00:00&end=2025-12-06T08:00:00").json == []
    )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", b"give both start and end"),
        ("?start=2025-12-06T05:00:00", b"give both start and end"),
        ("?start=2025-12-06T05:00:00&end=2025-12-06T07:00:01", b"ask for a shorter range"),
        ("?start=2025-12-06T05:00:00&end=2025-12-06T05:00:00", b"is not after start"),
        ("?start=yesterday&end=2025-12-06T05:00:00", b"start"),
    ],
)
def test_chat_json_refusals(client, query, reason):
    resp = client.get(f"/chan/chat.json{query}")
    assert resp.status_code == 400
    assert reason in resp.data


def test_chat_json_refuses_too_many_bytes_before_reading(client, base, monkeypatch):
    from services.restreamer import chat as routes  # noqa: PLC0415

    monkeypatch.setattr(routes, "MAX_CHAT_BYTES", 1000)
    resp = client.get("/chan/chat.json?start=2025-12-06T05:46:40&end=2025-12-06T05:46:45")
    assert resp.status_code == 413
    assert b"ask for a shorter range" in resp.data


def test_chat_json_answers_two_at_once_then_429(client):
    from services.restreamer import chat as routes  # noqa: PLC0415

    url = "/chan/chat.json?start=2025-12-06T05:46:40&end=2025-12-06T05:46:45"
    for _ in range(routes.MAX_CHAT_JOBS):
        assert routes._jobs.acquire(blocking=False)  # as if computing other answers
    try:
        resp = client.get(url)
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "2"
        assert b"ask again" in resp.data
    finally:
        for _ in range(routes.MAX_CHAT_JOBS):
            routes._jobs.release()
    assert client.get(url).status_code == 200
