"""HLS rendering: what the text says, read back by the m3u8 package."""

import datetime as dt

import m3u8

from fastseg import SegmentInfo
from services.restreamer.hls import master_playlist, media_playlist

T0 = dt.datetime(2026, 11, 27, 17, 59, 58)
HASH = "47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU"


def seg(start: dt.datetime, seconds: float) -> SegmentInfo:
    duration = dt.timedelta(seconds=seconds)
    hour = f"/base/ch/q/{start:%Y-%m-%dT%H}"
    name = f"{start:%M:%S}.{start.microsecond:06d}-{seconds}-full-{HASH}.ts"
    return SegmentInfo(f"{hour}/{name}", "ch", "q", start, duration, "full")


def test_media_playlist_fields():
    a = seg(T0, 2.0)
    b = seg(T0 + dt.timedelta(seconds=2), 2.5)  # in the next hour directory
    text = media_playlist([a, b], "ch", "q", ended=True)
    playlist = m3u8.loads(text)
    assert playlist.version == 3
    assert playlist.target_duration == 3  # ceil(2.5)
    assert playlist.is_endlist
    assert [s.duration for s in playlist.segments] == [2.0, 2.5]
    assert [s.uri for s in playlist.segments] == [
        f"/segments/ch/q/2026-11-27T17/{a.name}",
        f"/segments/ch/q/2026-11-27T18/{b.name}",
    ]
    assert [s.program_date_time for s in playlist.segments] == [
        T0.replace(tzinfo=dt.UTC),
        (T0 + dt.timedelta(seconds=2)).replace(tzinfo=dt.UTC),
    ]
    assert not any(s.discontinuity for s in playlist.segments)


def test_media_playlist_marks_holes_and_open_ends():
    a, b, c = (seg(T0 + dt.timedelta(seconds=2 * i), 2.0) for i in range(3))
    text = media_playlist([None, a, None, c, None], "ch", "q", ended=False)
    playlist = m3u8.loads(text)
    assert [s.uri.rsplit("/", 1)[1] for s in playlist.segments] == [a.name, c.name]
    # A hole before the first segment needs no marker; one between segments does.
    assert [s.discontinuity for s in playlist.segments] == [False, True]
    assert not playlist.is_endlist
    assert b.name not in text


def test_media_playlist_quotes_names_and_handles_empty():
    text = media_playlist([None], "my channel", "q#1", ended=False)
    playlist = m3u8.loads(text)
    assert playlist.segments == []
    assert playlist.target_duration == 1
    a = seg(T0, 0.5)
    text = media_playlist([a], "my channel", "q#1", ended=True)
    assert f"/segments/my%20channel/q%231/2026-11-27T17/{a.name}" in text


def test_master_playlist():
    text = master_playlist([("source", 3_000_000, "/playlist/ch/source.m3u8?start=x"),
                            ("480p", 1_000_000, "/playlist/ch/480p.m3u8")])  # fmt: skip
    playlist = m3u8.loads(text)
    assert playlist.is_variant
    assert [p.uri for p in playlist.playlists] == [
        "/playlist/ch/source.m3u8?start=x",
        "/playlist/ch/480p.m3u8",
    ]
    assert [p.stream_info.bandwidth for p in playlist.playlists] == [3_000_000, 1_000_000]
    assert [m.name for m in playlist.media] == ["source", "480p"]
