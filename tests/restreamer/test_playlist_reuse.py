"""Rendered playlist hours are reused while fastseg's choice is equal, and a day yields."""

import datetime as dt

import gevent

import fastseg
from services.restreamer.hls import MediaCache, media_playlist, media_playlist_chunks
from tests.restreamer.trees import make_tree

T0 = dt.datetime(2026, 11, 27, 10)
PER_HOUR = 360  # 10-second segments: cheap to make, the same code path as 2-second ones


def select(path, hours=3):
    return fastseg.get_best_segments(path, T0, T0 + dt.timedelta(hours=hours))


def test_a_warm_playlist_reuses_the_rendered_hours(tmp_path, impl):
    make_tree(tmp_path, "ch", "q", T0, PER_HOUR * 3, duration=10)
    path = str(tmp_path / "ch" / "q")
    cache = MediaCache()
    first = media_playlist_chunks(select(path), "ch", "q", True, cache)
    warm = media_playlist_chunks(select(path), "ch", "q", True, cache)
    # fastseg hands out a fresh list per call: the hours are kept all the same.
    assert len(first) == 5  # the head, three whole hours, the end
    assert all(a is b for a, b in zip(first[1:], warm[1:], strict=True))
    # fastseg reads the hours again (new objects, equal segments): still the same text.
    fastseg.clear_cache()
    again = media_playlist_chunks(select(path), "ch", "q", True, cache)
    assert all(a is b for a, b in zip(first[1:], again[1:], strict=True))


def test_a_selection_older_than_its_hours_renders_as_selected(tmp_path, impl):
    """Hours that changed between the selection and the render (live ones, or deletions)."""
    paths = make_tree(tmp_path, "ch", "q", T0, PER_HOUR * 2 - 3, duration=10)
    path = str(tmp_path / "ch" / "q")
    segments = select(path, hours=2)
    expected = media_playlist(segments, "ch", "q", False, MediaCache())
    make_tree(tmp_path, "ch", "q", T0 + dt.timedelta(seconds=10 * (PER_HOUR * 2 - 3)), 1,
              duration=10)  # fmt: skip
    for gone in (5, PER_HOUR + 100):
        open(fastseg.tombstone_path(str(paths[gone])), "w").close()
    fastseg.clear_cache()  # as when the directories changed too recently to be trusted
    cache = MediaCache()
    assert media_playlist(segments, "ch", "q", False, cache) == expected
    now = media_playlist(select(path, hours=2), "ch", "q", False, cache)
    assert now.count(b"#EXTINF") == expected.count(b"#EXTINF") - 1
    assert now.count(b"#EXT-X-DISCONTINUITY") == 2


def test_rendering_a_cold_day_yields_to_other_greenlets_every_hour(tmp_path, impl):
    hours = 6
    make_tree(tmp_path, "ch", "q", T0, PER_HOUR * hours, duration=10)
    segments = select(str(tmp_path / "ch" / "q"), hours=hours)
    turns = []

    def other():
        while True:
            turns.append(len(turns))
            gevent.idle()

    greenlet = gevent.spawn(other)
    gevent.idle()
    try:
        before = len(turns)
        media_playlist_chunks(segments, "ch", "q", True, MediaCache())
        assert len(turns) - before >= hours  # a turn after each hour rendered
    finally:
        greenlet.kill()


def test_the_target_duration_counts_only_the_segments_in_the_playlist(tmp_path, impl):
    make_tree(tmp_path, "ch", "q", T0, PER_HOUR + 100, duration=10)
    long_one = T0 + dt.timedelta(seconds=10 * (PER_HOUR + 100))
    make_tree(tmp_path, "ch", "q", long_one, 1, duration=25)
    make_tree(tmp_path, "ch", "q", long_one + dt.timedelta(seconds=25), 100, duration=10)
    path = str(tmp_path / "ch" / "q")
    cache = MediaCache()
    whole = fastseg.get_best_segments(path, T0, T0 + dt.timedelta(hours=2))
    assert b"#EXT-X-TARGETDURATION:25\n" in media_playlist(whole, "ch", "q", True, cache)
    for minutes, target in ((10, 10), (20, 25)):  # stretches of the hour holding the long one
        end = T0 + dt.timedelta(hours=1, minutes=minutes)
        segments = fastseg.get_best_segments(path, T0, end)
        text = media_playlist(segments, "ch", "q", True, cache)
        assert f"#EXT-X-TARGETDURATION:{target}\n".encode() in text
