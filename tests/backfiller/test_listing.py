"""What a pass checks and what counts as missing (pure functions, no network)."""

import datetime as dt
import hashlib
import random

import pytest

from fastseg import content_id, segment_name
from services.backfiller.listing import missing_segments, missing_tombstones, pass_hours

NOW = dt.datetime(2026, 11, 27, 18, 30)
HOUR = "2026-11-27T17"
T0 = dt.datetime(2026, 11, 27, 17, 5, 0)
TWO = dt.timedelta(seconds=2)


def name(start=T0, type="full", data=b"x", duration=TWO):
    ident = "abc123" if type == "temp" else content_id(hashlib.sha256(data))
    return segment_name(start, duration, type, ident)


def test_hours_are_the_union_newest_first_and_inputs_untouched():
    by_quality = {
        "source": ["2026-11-27T15", "2026-11-27T17"],
        "480p": ["2026-11-27T16", "2026-11-27T17", "2026-11-27T12"],
    }
    frozen = {q: list(h) for q, h in by_quality.items()}
    got = pass_hours(by_quality)
    assert got == ["2026-11-27T17", "2026-11-27T16", "2026-11-27T15", "2026-11-27T12"]
    assert by_quality == frozen  # the caller's lists are not sorted or changed


def test_oldest_and_random_orders_check_the_two_newest_hours_first():
    hours = {"q": [f"2026-11-27T{h:02d}" for h in range(10)]}
    oldest = pass_hours(hours, "oldest")
    assert oldest[:2] == ["2026-11-27T09", "2026-11-27T08"]
    assert oldest[2:] == [f"2026-11-27T{h:02d}" for h in range(8)]
    shuffled = pass_hours(hours, "random", rng=random.Random(1))
    assert shuffled[:2] == ["2026-11-27T09", "2026-11-27T08"]
    assert sorted(shuffled) == sorted(hours["q"])


def test_start_limits_how_far_back_and_keeps_the_hour_it_falls_in():
    hours = {"q": ["2026-11-27T10", "2026-11-27T11", "2026-11-27T12"]}
    assert pass_hours(hours, start=dt.datetime(2026, 11, 27, 11, 40)) == [
        "2026-11-27T12",
        "2026-11-27T11",
    ]


def test_names_that_are_not_hours_are_left_out():
    assert pass_hours({"q": ["2026-11-27T10", "junk", "2026-13-01T00"]}) == ["2026-11-27T10"]


def test_unknown_order_is_an_error():
    with pytest.raises(ValueError, match="order 'sideways' is not one of newest, oldest, random"):
        pass_hours({}, "sideways")


def missing(remote, local_names, tmp_path, cutoff=60, bad=None):
    hour_dir = tmp_path / "ch" / "q" / HOUR
    hour_dir.mkdir(parents=True, exist_ok=True)
    for n in local_names:
        (hour_dir / n).touch()
    found = missing_segments(remote, str(hour_dir), HOUR, NOW, dt.timedelta(seconds=cutoff), bad)
    return [info.name for info in found]


def test_missing_is_what_the_peer_lists_and_we_lack(tmp_path):
    have = name(data=b"a")
    lack = name(T0 + TWO, data=b"b")
    assert missing([have, lack], [have], tmp_path) == [lack]


def test_temp_recent_and_tombstoned_names_are_skipped(tmp_path):
    temp = name(T0, "temp")
    # 30 s before NOW: younger than a 60 s cutoff, older than a 10 s one.
    recent = name(NOW - dt.timedelta(seconds=30), data=b"r")
    recent_hour = "2026-11-27T18"
    hidden = name(T0 + TWO, data=b"hidden")
    assert missing([temp, hidden], [hidden[:-3] + ".tombstone"], tmp_path) == []
    # STEM.ts.tombstone hides nothing: the segment is fetched
    assert missing([hidden], [hidden + ".tombstone"], tmp_path / "other") == [hidden]
    hour_dir = tmp_path / "ch" / "q" / recent_hour
    got = missing_segments([recent], str(hour_dir), recent_hour, NOW, dt.timedelta(seconds=60))
    assert got == []
    got = missing_segments([recent], str(hour_dir), recent_hour, NOW, dt.timedelta(seconds=10))
    assert [i.name for i in got] == [recent]


def test_missing_tombstones_are_the_peers_we_lack_for_segments_we_hold(tmp_path):
    hour_dir = tmp_path / "ch" / "q" / HOUR
    seg = name(T0, data=b"s")
    ours = name(T0 + TWO, data=b"o")
    absent = name(T0 + 2 * TWO, data=b"a")
    hour_dir.mkdir(parents=True)
    (hour_dir / seg).write_bytes(b"s")
    (hour_dir / f"{ours[:-3]}.tombstone").touch()
    remote = [f"{seg[:-3]}.tombstone", f"{ours[:-3]}.tombstone", f"{absent[:-3]}.tombstone",
              "junk.tombstone", "../x.tombstone", f"{seg}.tombstone"]  # fmt: skip
    bad = set()
    got, not_held = missing_tombstones(remote, str(hour_dir), HOUR, bad)
    assert got == [f"{seg[:-3]}.tombstone"]
    # one for a segment we lack hides nothing here: junk too, without a log line each
    assert not_held == 4
    assert bad == set()
    # tombstones are not segments to fetch (and are not logged as bad names)
    assert missing_segments(remote, str(hour_dir), HOUR, NOW, dt.timedelta(0), bad) == []
    assert bad == set()


def test_partial_or_suspect_is_skipped_only_when_we_hold_a_full_copy(tmp_path):
    full = name(T0, data=b"full")
    partial_same_start = name(T0, "partial", data=b"part")
    suspect_other_start = name(T0 + TWO, "suspect", data=b"sus")
    got = missing([partial_same_start, suspect_other_start], [full], tmp_path)
    assert got == [suspect_other_start]


def test_bad_names_are_skipped_and_logged_once(tmp_path, caplog):
    bad = set()
    names = ["../../etc/passwd.ts", ".hidden.ts", "notasegment.ts", "a/b.ts"]
    assert missing(names, [], tmp_path, bad=bad) == []
    assert missing(names, [], tmp_path, bad=bad) == []
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == len(names)  # once each, not once per pass
    assert "'notasegment.ts'" in caplog.text
