"""The test origin itself: it must publish and misbehave exactly as the other tests assume."""

import datetime as dt
import http.client
import time

import m3u8
import pytest

from tests.waiting import wait_until


def get(origin, path):
    conn = http.client.HTTPConnection("127.0.0.1", origin.server.server_port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def media(origin, session=1, variant="source"):
    status, body = get(origin, f"/live/{session}/{variant}.m3u8")
    assert status == 200
    return m3u8.loads(body.decode())


@pytest.fixture
def origin(make_origin, ts_stream, fmp4_stream):
    o = make_origin({"source": ts_stream, "fmp4": fmp4_stream}, window=4, speed=4)
    assert get(o, "/master.m3u8")[0] == 200  # opens session 1
    return o


def test_window_slides_with_sequence_and_program_date_time(origin, ts_stream):
    first = media(origin)
    assert len(first.segments) == 4
    wait_until(
        lambda: media(origin).media_sequence > first.media_sequence, "the window to move", 10
    )
    later = media(origin)
    step = later.media_sequence - first.media_sequence
    assert later.segments[0].program_date_time == first.segments[
        0
    ].program_date_time + dt.timedelta(seconds=step)
    n = later.media_sequence
    status, body = get(origin, later.segments[0].uri)
    assert status == 200
    assert body == ts_stream.segment_bytes(n % len(ts_stream.segments))


def test_fmp4_variant_has_an_init_section_and_fragments(origin, fmp4_stream):
    playlist = media(origin, variant="fmp4")
    assert playlist.segment_map[0].uri == "/init/fmp4.mp4"
    assert get(origin, "/init/fmp4.mp4") == (200, fmp4_stream.init)
    n = playlist.media_sequence
    status, body = get(origin, playlist.segments[0].uri)
    assert fmp4_stream.init + body == fmp4_stream.segment_bytes(n % len(fmp4_stream.segments))


def test_segment_faults(origin, ts_stream):
    n = origin.segment_errors(2)
    wait_until(lambda: origin.published_count() > n, "the faulty segment", 10)
    uri = f"/seg/source/{n}.ts"
    assert [get(origin, uri)[0] for _ in range(3)] == [500, 500, 200]

    n = origin.reset_midway(1)
    wait_until(lambda: origin.published_count() > n, "the segment to reset", 10)
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        get(origin, f"/seg/source/{n}.ts")
    assert get(origin, f"/seg/source/{n}.ts")[0] == 200

    n = origin.empty_body()
    wait_until(lambda: origin.published_count() > n, "the empty segment", 10)
    assert get(origin, f"/seg/source/{n}.ts") == (200, b"")
    assert get(origin, f"/seg/source/{n + 1000}.ts")[0] == 404  # not published yet


def test_playlist_faults(origin):
    origin.playlist_errors(1)
    assert get(origin, "/live/1/source.m3u8")[0] == 503

    n = origin.discontinuity(5.0)
    d = origin.duplicate()
    assert d == n  # both apply to the next segment
    wait_until(lambda: origin.published_count() > n + 1, "the discontinuity", 10)
    playlist = media(origin)
    uris = [s.uri for s in playlist.segments]
    assert uris.count(f"/seg/source/{n}.ts") == 2
    i = uris.index(f"/seg/source/{n}.ts")
    assert playlist.segments[i].discontinuity
    gap = playlist.segments[i].program_date_time - playlist.segments[i - 1].program_date_time
    assert gap == dt.timedelta(seconds=6)  # one segment plus the 5 s jump

    k = origin.skip_ahead(2)
    wait_until(lambda: origin.published_count() > k + 3, "the skip", 10)
    listed = [s.uri for s in media(origin).segments]
    assert f"/seg/source/{k}.ts" not in listed
    assert f"/seg/source/{k + 2}.ts" in listed

    origin.stall()
    frozen = get(origin, "/live/1/source.m3u8")[1]
    count = origin.published_count()
    wait_until(lambda: origin.published_count() > count, "a new segment", 10)
    assert get(origin, "/live/1/source.m3u8")[1] == frozen
    get(origin, "/master.m3u8")  # session 2 is live
    assert media(origin, session=2).segments[-1].uri != m3u8.loads(frozen.decode()).segments[-1].uri

    origin.expire()
    assert get(origin, "/live/2/source.m3u8")[0] == 404
    get(origin, "/master.m3u8")
    assert get(origin, "/live/3/source.m3u8")[0] == 200


def test_published_records_first_listing(origin):
    before = time.time()
    playlist = media(origin)
    n = playlist.media_sequence + len(playlist.segments) - 1
    assert origin.published["source"][n].first_listed >= before
