"""HLS rendering: what the text says, read back by the m3u8 package."""

import datetime as dt

import m3u8

from fastseg import SegmentInfo
from services.restreamer.hls import master_playlist, media_playlist

T0 = dt.datetime(2026, 11, 27, 17, 59, 58)
HASH = "47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU"


def media_playlist_text(*args, **kwargs) -> str:
    return media_playlist(*args, **kwargs).decode("ascii")


def seg(start: dt.datetime, seconds: float) -> SegmentInfo:
    duration = dt.timedelta(seconds=seconds)
    hour = f"/base/ch/q/{start:%Y-%m-%dT%H}"
    name = f"{start:%M:%S}.{start.microsecond:06d}-{seconds}-full-{HASH}.ts"
    return SegmentInfo(f"{hour}/{name}", "ch", "q", start, duration, "full")


def test_media_playlist_fields():
    a = seg(T0, 2.0)
    b = seg(T0 + dt.timedelta(seconds=2), 2.5)  # in the next hour directory
    text = media_playlist_text([a, b], "ch", "q", ended=True)
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
    text = media_playlist_text([None, a, None, c, None], "ch", "q", ended=False)
    playlist = m3u8.loads(text)
    assert [s.uri.rsplit("/", 1)[1] for s in playlist.segments] == [a.name, c.name]
    # A hole before the first segment needs no marker; one between segments does.
    assert [s.discontinuity for s in playlist.segments] == [False, True]
    assert not playlist.is_endlist
    assert b.name not in text


def test_media_playlist_quotes_names_and_handles_empty():
    text = media_playlist_text([None], "my channel", "q#1", ended=False)
    playlist = m3u8.loads(text)
    assert playlist.segments == []
    assert playlist.target_duration == 1
    a = seg(T0, 0.5)
    text = media_playlist_text([a], "my channel", "q#1", ended=True)
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


def reference(segments, channel, quality, ended):
    """The media playlist written the plain way, one formatted entry per segment."""
    longest = max((s.duration for s in segments if s is not None), default=dt.timedelta(0))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3",
             f"#EXT-X-TARGETDURATION:{max(1, -(-longest // dt.timedelta(seconds=1)))}",
             "#EXT-X-MEDIA-SEQUENCE:0"]  # fmt: skip
    if ended:
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    seen = hole = False
    for s in segments:
        if s is None:
            hole = seen
            continue
        if hole:
            lines.append("#EXT-X-DISCONTINUITY")
            hole = False
        seen = True
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{s.start.isoformat(timespec='microseconds')}Z")
        lines.append(f"#EXTINF:{float(s.duration.total_seconds())!r},".replace(".0,", ","))
        lines.append(f"/segments/{channel}/{quality}/{s.hour_path.rsplit('/', 1)[1]}/{s.name}")
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def test_cached_rendering_matches_plain_rendering(tmp_path):
    """Hours rendered once and sliced give exactly the text of a plain loop, cold and warm,
    with holes, a partial segment, a dropped overlap and a short-fraction name."""
    import fastseg  # noqa: PLC0415
    from services.restreamer.hls import MediaCache  # noqa: PLC0415
    from tests.restreamer.trees import make_tree  # noqa: PLC0415

    base = tmp_path / "base"
    t0 = dt.datetime(2026, 11, 27, 16, 58)
    make_tree(base, "ch", "q", t0, 200, holes=frozenset({3, 70, 71, 150}), duration=2.5)
    make_tree(base, "ch", "q", t0 + dt.timedelta(seconds=2.5 * 40), 1, type="partial")
    hour = base / "ch" / "q" / "2026-11-27T17"
    overlap = f"00:01.1-2.5-full-{HASH}.ts"  # overlaps 00:00-00:02.5 by 1.4 s: dropped
    (hour / overlap).touch()
    short = f"00:55.5-0.5-full-{HASH[:-1]}A.ts"  # in the hole, by another tool: 1-digit fraction
    (hour / short).touch()
    fastseg.clear_cache()
    cache = MediaCache()
    path = str(base / "ch" / "q")
    for start, end in [
        (t0, t0 + dt.timedelta(hours=1)),
        (t0 + dt.timedelta(minutes=2, seconds=1), t0 + dt.timedelta(minutes=8)),
        (t0, t0),
    ]:
        segments = fastseg.get_best_segments(path, start, end)
        assert all(s is None or s.name != overlap for s in segments)
        expected = reference(segments, "ch", "q", True)
        assert media_playlist(segments, "ch", "q", True, cache).decode() == expected  # cold
        assert media_playlist(segments, "ch", "q", True, cache).decode() == expected  # warm
    whole = fastseg.get_best_segments(path, t0, t0 + dt.timedelta(hours=1))
    assert None in whole
    assert any(s is not None and s.name == short for s in whole)
    assert len(m3u8.loads(media_playlist(whole, "ch", "q", False, cache).decode()).segments) == len(
        [s for s in whole if s is not None]
    )
