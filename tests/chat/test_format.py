"""The batch format and the merge rules, each as a test (docs/DESIGN.md ``## Chat``).

The fixtures under ``fixtures/chan/chat`` were written the way wubloader's archiver
writes (compact sorted-key JSON, ASCII escapes, lines sorted by time, range and
text, named ``MM:SS-`` + unpadded ``-_`` base64 of the SHA-256): they are read,
re-encoded byte for byte, and merged as wubloader's rules say.
"""

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from services.archive import chat

FIXTURES = Path(__file__).parent / "fixtures" / "chan" / "chat"
HOUR = "2025-12-06T05"
MINUTE = 1764999960  # 2025-12-06T05:46:00Z


def fixture_files():
    return sorted((FIXTURES / HOUR).iterdir())


def msg(command="NOTICE", time=1765000000.0, time_range=10, receivers=None, **fields):
    return {"command": command, "params": ["#chan", "x"], "tags": {}, "sender": None,
            "user": None, "host": None, "time": time, "time_range": time_range,
            "receivers": receivers or {"a.0": time + 1}, **fields}  # fmt: skip


def test_fixture_names_are_the_hash_of_their_bytes_in_wubloaders_encoding():
    for path in fixture_files():
        data = path.read_bytes()
        digest = base64.b64encode(hashlib.sha256(data).digest(), b"-_").decode().rstrip("=")
        assert path.name == f"46:00-{digest}.json"
        assert chat.parse_batch_name(HOUR, path.name) == (MINUTE, digest)
        assert chat.batch_name(MINUTE, data) == (HOUR, path.name)


def test_fixtures_read_and_reencode_unchanged():
    for path in fixture_files():
        data = path.read_bytes()
        messages = chat.parse_batch(data)
        assert chat.format_batch(messages) == data
        assert chat.format_batch(chat.merge(messages)) == data
        assert chat.format_batch(chat.merge(messages, messages)) == data  # idempotent


def test_fixtures_merge_by_wubloaders_rules():
    a, b = (chat.read_batch(str(p)) for p in fixture_files())
    merged = chat.merge(a, b)
    assert chat.format_batch(merged) == chat.format_batch(chat.merge(b, a))
    by = {(m["command"], m["tags"].get("id")): m for m in merged}
    assert len(merged) == 4  # m1 once, m2, one ROOMSTATE, one JOIN
    m1 = by["PRIVMSG", "m1"]
    assert m1["receivers"] == {"node-a.k3j9x.0": 1765000000.2512, "node-b.p0q7z.1": 1765000000.3007}
    assert (m1["time"], m1["time_range"]) == (1765000000.123, 0)
    room = by["ROOMSTATE", None]  # [1.0, 11.0] and [4.0, 10.5] past T: B's range is inside A's
    assert (room["time"], room["time_range"]) == (1765000004.0, 6.5)
    joined = by["JOIN", None]  # [-37.5, 17.5] and [-30, 20]: the intersection [-30, 17.5]
    assert (joined["time"], joined["time_range"]) == (1764999970.0, 47.5)
    assert set(joined["receivers"]) == {"node-a.k3j9x.0", "node-b.p0q7z.1"}


def test_canonical_line_is_compact_sorted_and_ascii():
    line = chat.encode({"time": 1.5, "command": "PRIVMSG", "params": ["#c", "caf\u00e9"]})
    assert line == '{"command":"PRIVMSG","params":["#c","caf\\u00e9"],"time":1.5}'


def test_lines_sort_by_time_then_range_then_text():
    late = msg(time=1765000002.0, time_range=0)
    wide = msg(time=1765000001.0, time_range=20)
    narrow = msg(time=1765000001.0, time_range=5)
    data = chat.format_batch([late, wide, narrow]).decode()
    assert [json.loads(x)["time_range"] for x in data.splitlines()] == [5, 20, 0]
    assert data.endswith("\n")


def test_messages_without_id_match_when_ranges_overlap_and_fields_agree():
    a = msg(time=1765000000.0, time_range=10, receivers={"a.0": 1765000005.0})
    b = msg(time=1765000004.0, time_range=10, receivers={"b.0": 1765000006.0})
    (m,) = chat.merge([a], [b])
    assert (m["time"], m["time_range"]) == (1765000004.0, 6.0)
    assert m["receivers"] == {"a.0": 1765000005.0, "b.0": 1765000006.0}


def test_disjoint_ranges_or_different_fields_stay_two_messages():
    a = msg(time=1765000000.0, time_range=1)
    assert len(chat.merge([a], [msg(time=1765000005.0, time_range=1)])) == 2
    assert len(chat.merge([a], [msg(time=1765000000.0, time_range=1, params=["#chan", "y"])])) == 2


def test_touching_ranges_match():
    a = msg(time=1765000000.0, time_range=5, receivers={"a.0": 1765000001.0})
    b = msg(time=1765000005.0, time_range=5, receivers={"b.0": 1765000006.0})
    (m,) = chat.merge([a], [b])
    assert (m["time"], m["time_range"]) == (1765000005.0, 0.0)


def test_one_receiver_seeing_two_copies_keeps_them_apart():
    """A receiver gets a message once: two of its copies at different times are two messages."""
    a = msg(time=1765000000.0, time_range=10, receivers={"a.0": 1765000005.0})
    b = msg(time=1765000002.0, time_range=10, receivers={"a.0": 1765000007.0})
    assert len(chat.merge([a], [b])) == 2
    assert chat.format_batch(chat.merge([a, b], [a])) == chat.format_batch([a, b])


def test_same_id_messages_merge_receivers():
    a = msg("PRIVMSG", time=1765000000.5, time_range=0, tags={"id": "x"}, receivers={"a.0": 1.0})
    b = msg("PRIVMSG", time=1765000000.5, time_range=0, tags={"id": "x"}, receivers={"b.0": 2.0})
    (m,) = chat.merge([a], [b])
    assert m["receivers"] == {"a.0": 1.0, "b.0": 2.0}
    assert repr(m["time_range"]) == "0"  # an integer stays an integer: the bytes stay stable


def test_equal_numbers_keep_the_shorter_form_whatever_the_order():
    a = msg(time=1765000000.0, time_range=0, tags={"id": "x"}, receivers={"a.0": 1.0})
    b = dict(a, time_range=0.0, receivers={"b.0": 2.0})
    assert chat.format_batch(chat.merge([a], [b])) == chat.format_batch(chat.merge([b], [a]))
    assert '"time_range":0,' in chat.format_batch(chat.merge([a], [b])).decode()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json\n", "not JSON"),
        (b"[1]\n", "not a message"),
        (b'{"command":"X","time":1,"time_range":-1,"receivers":{}}\n', "time_range"),
        (b'{"command":"X","time":NaN,"time_range":1,"receivers":{}}\n', "finite time"),
        (b'{"command":"X","time":1,"time_range":1,"receivers":[]}\n', "receivers"),
        (b"\xff\n", "UTF-8"),
        (b"[" * 100_000 + b"\n", "not JSON"),
    ],
)
def test_bad_batches_are_refused_with_a_reason(data, problem):
    with pytest.raises(chat.BadBatch, match=problem):
        chat.parse_batch(data)


def test_too_many_messages_are_refused_before_parsing():
    line = chat.encode(msg()) + "\n"
    with pytest.raises(chat.BadBatch, match="over the limit of 3"):
        chat.parse_batch((line * 4).encode(), max_messages=3)


def test_batch_names_are_strict():
    assert chat.parse_batch_name(HOUR, "46:00-" + "A" * 43 + ".json") == (MINUTE, "A" * 43)
    a43 = "A" * 43
    for bad in (f"46:01-{a43}.json", f"60:00-{a43}.json", f"46:00-{a43[1:]}.json",
                f"../{a43}", f"46:00-{a43}.ts"):  # fmt: skip
        assert chat.parse_batch_name(HOUR, bad) is None
    assert chat.parse_batch_name("2025-13-06T05", "46:00-" + "A" * 43 + ".json") is None


def test_merge_minute_merges_neighbours_and_removes_only_what_it_replaced(tmp_path):
    chat_dir = tmp_path / "chan" / "chat"
    for path in fixture_files():
        (chat_dir / HOUR).mkdir(parents=True, exist_ok=True)
        (chat_dir / HOUR / path.name).write_bytes(path.read_bytes())
    # a copy of the JOIN filed in the minute before (its range starts before 05:46)
    early = msg("JOIN", time=1764999950.0, time_range=50, receivers={"c.0": 1765000001.0})
    early.update(params=["#chan"], sender="viewer2", user="viewer2", host="viewer2.tmi.twitch.tv")
    chat.write_batch(str(chat_dir), MINUTE - 60, [early])
    assert chat.crowded_minutes(str(chat_dir)) == [MINUTE]
    written, removed, bad = chat.merge_minute(str(chat_dir), MINUTE)
    assert len(written) == 1
    assert len(removed) == 3
    assert not bad
    (joined,) = [m for m in chat.read_batch(written[0]) if m["command"] == "JOIN"]
    assert set(joined["receivers"]) == {"node-a.k3j9x.0", "node-b.p0q7z.1", "c.0"}
    assert chat.crowded_minutes(str(chat_dir)) == []
    assert sorted(os.listdir(chat_dir / HOUR)) == [os.path.basename(written[0])]


def test_a_bad_file_is_hidden_not_merged(tmp_path):
    chat_dir = tmp_path / "chat"
    good = chat.write_batch(str(chat_dir), MINUTE, [msg()])
    bad = chat_dir / HOUR / ("46:00-" + "B" * 43 + ".json")
    bad.write_bytes(b"garbage\n")
    written, _, hidden = chat.merge_minute(str(chat_dir), MINUTE)
    assert written == [good]
    assert hidden == [str(bad)]
    assert (chat_dir / HOUR / f".{bad.name}.bad").exists()


def test_files_for_range_reaches_two_minutes_back(tmp_path):
    chat_dir = str(tmp_path)
    paths = [chat.write_batch(chat_dir, MINUTE + 60 * k, [msg(time=MINUTE + 60 * k + 1.0)])
             for k in range(-4, 4)]  # fmt: skip
    found = chat.files_for_range(chat_dir, MINUTE + 10, MINUTE + 70)
    assert found == sorted(paths[2:6])  # MINUTE-120 .. MINUTE+60


def test_a_line_is_exactly_one_message():
    one = chat.encode(msg())
    for data in ((one + "," + one + "\n").encode(), (one + " x\n").encode()):
        with pytest.raises(chat.BadBatch, match="JSON"):
            chat.parse_batch(data)
        with pytest.raises(chat.BadBatch, match="JSON"):
            chat.parse_lines(data)
    messages, lines = chat.parse_lines((one + "\n" + one + "\n").encode())
    assert lines == [one, one]
    assert messages == [msg(), msg()]
