"""Chat rates and moments: counts per 10 s from the batches (copies counted once),
bursts and keyword hits found, the cache keyed by the files, the CLI and the route."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from services.archive import chat, chat_rate, times

HOUR = dt.datetime(2026, 12, 1, 20)
T0 = times.to_timestamp(HOUR)


def line(at, text="hello", node="a", command="PRIVMSG", msg_id=None):
    tags = {"id": msg_id} if msg_id else {}
    return {"command": command, "params": ["#chan", text], "tags": tags, "sender": "viewer",
            "user": "viewer", "host": None, "time": at, "time_range": 0,
            "receivers": {node: at + 0.5}}  # fmt: skip


def stream():
    """Ten quiet minutes (one line per 10 s), a burst of 30 lines at 10:00, then quiet,
    four "CLIP IT" lines at 15:20 among the usual one."""
    messages = [line(T0 + s, msg_id=f"q{s}") for s in range(0, 1200, 10)]
    messages += [line(T0 + 600 + i * 0.3, "POG", msg_id=f"b{i}") for i in range(30)]
    messages += [line(T0 + 921 + i, "CLIP IT", msg_id=f"k{i}") for i in range(4)]
    messages.append(line(T0 + 5, "joined", command="JOIN"))  # not counted
    return messages


def write(chat_dir, messages, node="a"):
    for minute, group in chat.split_minutes([{**m, "receivers": {node: m["time"] + 0.5}}
                                              for m in messages]).items():  # fmt: skip
        chat.write_batch(str(chat_dir), minute, group)


@pytest.fixture
def chat_dir(tmp_path):
    folder = tmp_path / "base" / "chan" / "chat"
    everything = stream()
    write(folder, everything, "a")
    write(folder, everything[::2], "b")  # a second node's copy of half of it, unmerged
    return folder


def test_counts_per_bin_count_each_message_once(chat_dir):
    found = chat_rate.rates(str(chat_dir), T0, T0 + 1200, ("clip",))
    assert found.start == T0
    assert len(found.counts) == 120
    assert found.counts[0] == 1  # the JOIN is not a message
    assert found.counts[60] == 1 + 30  # the burst, once though two nodes hold half of it
    assert found.counts[92] == 1 + 4
    assert found.hits[92] == 4
    assert sum(found.hits) == 4
    assert sum(found.counts) == 120 + 30 + 4


def test_moments_are_the_burst_and_the_keywords(chat_dir):
    found = chat_rate.rates(str(chat_dir), T0, T0 + 1200, ("clip",))
    moments = chat_rate.find_moments(found)
    assert [(m.start - T0, m.end - T0, m.peak_count, m.hits, m.why) for m in moments] == [
        (600, 610, 31, 0, "burst"),
        (920, 930, 5, 4, "burst+keywords"),
    ]
    assert moments[0].as_json()["start"] == "2026-12-01T20:10:00"
    assert chat_rate.find_moments(chat_rate.rates(str(chat_dir), T0, T0 + 1200, ())) == [
        chat_rate.Moment(T0 + 600, T0 + 610, T0 + 600, 31, 0, "burst"),
        chat_rate.Moment(T0 + 920, T0 + 930, T0 + 920, 5, 0, "burst"),
    ]


def test_a_range_inside_an_hour_and_across_hours(chat_dir):
    found = chat_rate.rates(str(chat_dir), T0 + 595, T0 + 615)
    assert (found.start, found.counts) == (T0 + 590, [1, 31, 1])
    across = chat_rate.rates(str(chat_dir), T0 - 20, T0 + 20)
    assert (across.start, across.counts) == (T0 - 20, [0, 0, 1, 1])


class Recording:
    def __init__(self):
        self.data, self.gets, self.puts = {}, 0, 0

    def get(self, key):
        self.gets += 1
        return self.data.get(key)

    def put(self, key, data):
        self.puts += 1
        self.data[key] = data


def test_the_cache_is_keyed_by_the_files(chat_dir):
    cache = Recording()
    first = chat_rate.rates(str(chat_dir), T0, T0 + 1200, ("clip",), cache)
    assert (cache.gets, cache.puts) == (1, 1)
    assert chat_rate.rates(str(chat_dir), T0, T0 + 1200, ("clip",), cache) == first
    assert (cache.gets, cache.puts) == (2, 1)  # a hit
    write(chat_dir, [line(T0 + 1000, "late", msg_id="late")], "c")  # a new file: a new key
    again = chat_rate.rates(str(chat_dir), T0, T0 + 1200, ("clip",), cache)
    assert cache.puts == 2
    assert again.counts[100] == first.counts[100] + 1


def test_keywords_are_checked():
    assert chat_rate.check_keywords([" Clip", "", "clip", "POG"]) == ("clip", "pog")
    with pytest.raises(ValueError, match="at most 20"):
        chat_rate.check_keywords([f"w{i}" for i in range(21)])
    with pytest.raises(ValueError, match="over 40 characters"):
        chat_rate.check_keywords(["x" * 41])


def test_since_takes_an_age_or_a_time():
    now = dt.datetime(2026, 12, 8, 12)
    assert times.since("2h", now) == dt.datetime(2026, 12, 8, 10)
    assert times.since("90s", now) == dt.datetime(2026, 12, 8, 11, 58, 30)
    assert times.since("7d", now) == dt.datetime(2026, 12, 1, 12)
    assert times.since("2026-12-08T09:00:00Z", now) == dt.datetime(2026, 12, 8, 9)
    for bad in ("2 hours", "h", "-2h", "400d"):
        with pytest.raises(times.BadTime, match="is not a time"):
            times.since(bad, now)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "services.chat", *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_cli_lists_the_moments(chat_dir):
    base = str(chat_dir.parent.parent)
    span = ["--since", "2026-12-01T20:00:00Z", "--until", "2026-12-01T20:20:00Z"]
    proc = run_cli("--base-dir", base, "moments", "--channel", "chan", *span, "--json")
    assert proc.returncode == 0, proc.stderr
    moments = [json.loads(text) for text in proc.stdout.splitlines()]
    assert [(m["start"], m["why"], m["hits"]) for m in moments] == [
        ("2026-12-01T20:10:00", "burst", 0),
        ("2026-12-01T20:15:20", "burst+keywords", 4),
    ]
    text = run_cli("--base-dir", base, "moments", "--channel", "chan", *span)
    assert "peak 31 messages/10 s at 2026-12-01T20:10:00Z (burst)" in text.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--channel", "nobody"], "no chat recorded for 'nobody'"),
        (["--channel", ".."], "channel"),
        (["--channel", "chan", "--since", "yesterday"], "'yesterday' is not a time"),
        (["--channel", "chan", "--since", "1h", "--until", "2000-01-01"], "is not after"),
        (["--channel", "chan", "--since", "30d"], "over 8 days"),
        (["--channel", "chan", "--factor", "0.5"], "over 1"),
    ],
)
def test_cli_refuses_with_a_reason(chat_dir, args, says):
    proc = run_cli("--base-dir", str(chat_dir.parent.parent), "moments", *args)
    assert proc.returncode != 0
    assert says in proc.stderr
    assert "Traceback" not in proc.stderr


def test_moments_of_a_range_are_judged_against_the_minutes_before_it(chat_dir):
    shown, moments = chat_rate.moments_in(str(chat_dir), T0 + 605, T0 + 700)
    assert (shown.start, len(shown.counts)) == (T0 + 600, 10)
    assert [(m.start - T0, m.why) for m in moments] == [(600, "burst")]
    # alone, the range's first bins have no past: the quiet ones are no burst either way
    assert chat_rate.moments_in(str(chat_dir), T0 + 700, T0 + 800)[1] == []
