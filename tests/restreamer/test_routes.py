"""Routes, answers and errors, through Flask's test client over generated trees.

Everything here is routing and validation; what needs gevent's server (sendfile,
concurrency, stopping) is in test_server.py.
"""

import datetime as dt
import json
import os

import m3u8
import pytest

from tests.restreamer.trees import make_tree
from tests.servers import metric

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)


@pytest.fixture
def base(tmp_path):
    base = tmp_path / "base"
    make_tree(base, "ch", "source", T0, 10, size=2000)  # 17:59:50 to 18:00:10
    make_tree(base, "ch", "low", T0, 10, holes=frozenset({4, 5}), size=500)
    (base / "ch" / ".hidden").mkdir()
    (base / "other").mkdir()
    (base / "ch" / "source" / "junk").mkdir()
    return base


@pytest.fixture
def client(base, make_client):
    return make_client(base)


def names(base, quality, hour):
    return sorted(p.name for p in (base / "ch" / quality / hour).iterdir())


def test_listings(client, base):
    # Only channels of qualities of hours: an empty "other" is none, nor is a folder of clips.
    (base / "clips").mkdir()
    (base / "clips" / "a clip-1234.ts").write_bytes(b"G")
    (base / "ch" / "no-hours").mkdir()
    assert client.get("/files").json == ["ch"]
    assert client.get("/files/ch").json == ["low", "source"]
    assert client.get("/files/ch/source").json == ["2026-11-27T17", "2026-11-27T18"]
    hour = client.get("/files/ch/source/2026-11-27T17")
    assert hour.mimetype == "application/json"
    assert hour.json == names(base, "source", "2026-11-27T17")
    assert len(hour.json) == 5


def test_listing_tombstones(client, base):
    hour_dir = base / "ch" / "source" / "2026-11-27T18"
    first = sorted(os.listdir(hour_dir))[0]
    (hour_dir / f"{first}.tombstone").touch()
    (hour_dir / ".partial-download.ts").touch()
    plain = client.get("/files/ch/source/2026-11-27T18").json
    assert first in plain  # STEM.ts.tombstone hides nothing
    assert len(plain) == 5
    assert client.get("/files/ch/source/2026-11-27T18?tombstones=true").json == sorted(
        [*plain, f"{first}.tombstone"]
    )
    (hour_dir / f"{first[:-3]}.tombstone").touch()
    plain = client.get("/files/ch/source/2026-11-27T18").json
    assert first not in plain
    assert len(plain) == 4
    both = client.get("/files/ch/source/2026-11-27T18?tombstones=true").json
    assert both == sorted([*plain, f"{first}.tombstone", f"{first[:-3]}.tombstone"])
    bad = client.get("/files/ch/source/2026-11-27T18?tombstones=perhaps")
    assert bad.status_code == 400
    assert b"tombstones 'perhaps' is not true or false" in bad.data


@pytest.mark.parametrize(
    "url", ["/files/nope", "/files/ch/nope", "/files/ch/source/2026-11-27T19", "/files/other/q"]
)
def test_listing_of_a_missing_name_is_empty(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.json == []


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/files/ch/source/2026-11-27", 400, b"is not YYYY-MM-DDTHH"),
        ("/files/.hidden", 400, b"starts with '.'"),
        ("/files/ch/..", 400, b"starts with '.'"),
        ("/files/ch/a%00b", 400, b"contains '\\x00'"),
        ("/nothing/here", 404, b"404 Not Found"),
    ],
)
def test_listing_errors(client, url, status, reason):
    response = client.get(url)
    assert response.status_code == status
    assert reason in response.data
    assert response.data.count(b"\n") == 1  # one line
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def segment_url(path):
    return "/segments/" + "/".join(path.parts[-4:])


def test_segment_whole(client, base):
    path = sorted((base / "ch" / "source" / "2026-11-27T18").iterdir())[0]
    path.write_bytes(bytes(range(256)) * 8)
    response = client.get(segment_url(path))
    assert response.status_code == 200
    assert response.data == path.read_bytes()
    assert response.headers["Content-Type"] == "video/MP2T"
    assert response.headers["Content-Length"] == "2048"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert "immutable" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    assert etag == '"' + path.name[:-3].rsplit("-", 1)[1] + '"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(segment_url(path), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    head = client.head(segment_url(path))
    assert head.status_code == 200
    assert head.headers["Content-Length"] == "2048"


@pytest.mark.parametrize(
    ("header", "status", "content_range", "span"),
    [
        ("bytes=0-99", 206, "bytes 0-99/2048", (0, 100)),
        ("bytes=2000-", 206, "bytes 2000-2047/2048", (2000, 2048)),
        ("bytes=-48", 206, "bytes 2000-2047/2048", (2000, 2048)),
        ("bytes=1000-9999", 206, "bytes 1000-2047/2048", (1000, 2048)),
        ("bytes=0-1,5-6", 200, None, (0, 2048)),  # several ranges: the whole file
        ("lines=0-1", 200, None, (0, 2048)),  # a unit we do not know: ignored
    ],
)
def test_segment_ranges(client, base, header, status, content_range, span):
    path = sorted((base / "ch" / "source" / "2026-11-27T18").iterdir())[0]
    data = os.urandom(2048)
    path.write_bytes(data)
    response = client.get(segment_url(path), headers={"Range": header})
    assert response.status_code == status
    assert response.headers.get("Content-Range") == content_range
    assert response.data == data[span[0] : span[1]]
    assert response.headers["Content-Length"] == str(span[1] - span[0])
    assert response.headers["Content-Type"] == "video/MP2T"


def test_segment_range_not_satisfiable_and_if_range(client, base):
    path = sorted((base / "ch" / "source" / "2026-11-27T18").iterdir())[0]
    response = client.get(segment_url(path), headers={"Range": "bytes=5000-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */2000"
    assert b"is not within the 2000 bytes" in response.data
    stale = client.get(segment_url(path), headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200
    assert len(stale.data) == 2000
    etag = client.head(segment_url(path)).headers["ETag"]
    fresh = client.get(segment_url(path), headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206
    assert len(fresh.data) == 10


def test_segment_temp_is_not_cached(client, base):
    hour_dir = base / "ch" / "source" / "2026-11-27T18"
    temp = hour_dir / "00:10-2-temp-0b5e2c1c-8a9f-4d8e-b5d1-2f6a1e0c9d3a.ts"
    temp.write_bytes(b"growing")
    response = client.get(segment_url(temp))
    assert response.status_code == 200
    assert response.data == b"growing"
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/segments/ch/source/2026-11-27T18/59:59-2-full-{h}.ts", 404, b"no segment"),
        ("/segments/ch/source/2026-11-27T18/x.ts", 400, b"is not MM:SS"),
        ("/segments/ch/source/2026-11-27T18/00:00-2-full-{h}.ts.tombstone", 400,
         b"does not end in '.ts'"),
        ("/segments/ch/source/18/00:00-2-full-{h}.ts", 400, b"is not YYYY-MM-DDTHH"),
        ("/segments/ch/../2026-11-27T18/00:00-2-full-{h}.ts", 400, b"starts with '.'"),
        ("/segments/nope/source/2026-11-27T18/00:00-2-full-{h}.ts", 404, b"no segment"),
        ("/segments/ch/source/2026-11-27T18/.00:00-2-full-{h}.ts", 400, b"starts with '.'"),
    ],
)  # fmt: skip
def test_segment_errors(client, url, status, reason):
    url = url.format(h="47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU")
    response = client.get(url)
    assert response.status_code == status, response.data
    assert reason in response.data


def test_segment_tombstoned_or_directory(client, base):
    hour_dir = base / "ch" / "source" / "2026-11-27T18"
    path = sorted(hour_dir.iterdir())[0]
    (hour_dir / f"{path.name}.tombstone").touch()
    assert client.get(segment_url(path)).status_code == 200
    (hour_dir / f"{path.stem}.tombstone").touch()
    response = client.get(segment_url(path))
    assert response.status_code == 404
    assert b"hidden by a tombstone" in response.data
    fake = hour_dir / "30:00-2-full-47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU.ts"
    fake.mkdir()
    assert client.get(segment_url(fake)).status_code == 404
    fifo = hour_dir / "31:00-2-full-47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU.ts"
    os.mkfifo(fifo)  # opening it for reading must not wait for a writer
    assert client.get(segment_url(fifo)).status_code == 404


def media(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/vnd.apple.mpegurl"
    return m3u8.loads(response.get_data(as_text=True))


def test_media_playlist_explicit_range(client, base):
    url = "/playlist/ch/source.m3u8?start=2026-11-27T17:59:53&end=2026-11-27T18:00:05Z"
    playlist = media(client, url)
    # 17:59:52 (covers the start) to 18:00:04 (covers the end): 7 segments
    times = [s.program_date_time.replace(tzinfo=None) for s in playlist.segments]
    assert times == [T0 + dt.timedelta(seconds=2 * i) for i in range(1, 8)]
    assert playlist.is_endlist
    assert playlist.target_duration == 2
    hours = [s.uri.split("/")[4] for s in playlist.segments]
    assert hours == ["2026-11-27T17"] * 4 + ["2026-11-27T18"] * 3
    for segment in playlist.segments:
        assert client.head(segment.uri).status_code == 200


def test_media_playlist_holes(client):
    playlist = media(
        client, "/playlist/ch/low.m3u8?start=2026-11-27T17:59:50&end=2026-11-27T18:00:10"
    )
    assert len(playlist.segments) == 8
    assert [s.discontinuity for s in playlist.segments] == [False] * 4 + [True] + [False] * 3
    assert playlist.is_endlist


def test_media_playlist_open_end_has_no_endlist(client):
    # The end is past the recording: more may come, so no ENDLIST.
    playlist = media(
        client, "/playlist/ch/source.m3u8?start=2026-11-27T17:59:50&end=2026-11-27T18:30:00"
    )
    assert len(playlist.segments) == 10
    assert not playlist.is_endlist


def test_media_playlist_implicit_range(client, base):
    playlist = media(client, "/playlist/ch/low.m3u8")
    assert len(playlist.segments) == 8
    assert playlist.segments[0].program_date_time.replace(tzinfo=None) == T0
    assert not playlist.is_endlist  # no end given: the recording may go on
    only_start = media(client, "/playlist/ch/source.m3u8?start=2026-11-27T18:00:00")
    assert len(only_start.segments) == 5
    only_end = media(client, "/playlist/ch/source.m3u8?end=2026-11-27T17:59:54")
    assert len(only_end.segments) == 2
    assert only_end.is_endlist


def test_implicit_range_is_capped(tmp_path, make_client):
    base = tmp_path / "base"
    long_ago = dt.datetime(2026, 11, 27, 0, 0, 0)
    make_tree(base, "ch", "q", long_ago, 1)
    make_tree(base, "ch", "q", long_ago + dt.timedelta(hours=13), 1)
    client = make_client(base)
    for url in ("/playlist/ch/q.m3u8", "/playlist/ch.m3u8",
                "/playlist/ch/q.m3u8?start=2026-11-27T00:00:00"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 400, url
        assert b"more than the 12:00:00 a playlist covers without both start and end" in (
            response.data
        )
    both = media(client, "/playlist/ch/q.m3u8?start=2026-11-27T00:00:00&end=2026-11-27T13:00:02")
    assert len(both.segments) == 2
    assert [s.discontinuity for s in both.segments] == [False, True]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("start=tomorrow", b"start: 'tomorrow' is not a time: give UTC"),
        ("start=2026-11-27T18:00:00&end=2026-11-27T17:00:00", b"is before start"),
        ("start=2026-01-01T00:00:00&end=2026-03-01T00:00:00", b"longer than the 14 days"),
        ("end=1999-12-31T23:59:59", b"outside 2000 to 2200"),
    ],
)
def test_playlist_bad_times(client, query, reason):
    for url in (f"/playlist/ch/source.m3u8?{query}", f"/playlist/ch.m3u8?{query}"):
        response = client.get(url)
        assert response.status_code == 400
        assert reason in response.data


def test_playlist_unknown(client, base):
    assert client.get("/playlist/nope/source.m3u8").status_code == 404
    assert client.get("/playlist/ch/nope.m3u8").status_code == 404
    assert client.get("/playlist/nope.m3u8").status_code == 404
    assert client.get("/playlist/other.m3u8").status_code == 404  # a channel with no video
    assert client.get("/playlist/..%2Fch.m3u8").status_code in (400, 404)


def test_master_playlist_lists_qualities_with_video_in_range(client):
    response = client.get("/playlist/ch.m3u8?start=2026-11-27T17:59:50&end=2026-11-27T18:00:10")
    playlist = m3u8.loads(response.get_data(as_text=True))
    # source's segments are denser (2000 bytes per 2 s against 500), so it comes first
    assert [p.uri for p in playlist.playlists] == [
        "/playlist/ch/source.m3u8?start=2026-11-27T17%3A59%3A50&end=2026-11-27T18%3A00%3A10",
        "/playlist/ch/low.m3u8?start=2026-11-27T17%3A59%3A50&end=2026-11-27T18%3A00%3A10",
    ]
    assert [p.stream_info.bandwidth for p in playlist.playlists] == [8000, 2000]
    # Only source has video from 17:59:58 to 18:00:02 (low's hole is there).
    hole = m3u8.loads(
        client.get("/playlist/ch.m3u8?start=2026-11-27T17:59:59&end=2026-11-27T18:00:01").get_data(
            as_text=True
        )
    )
    assert [p.uri.split("?")[0] for p in hole.playlists] == ["/playlist/ch/source.m3u8"]
    implicit = m3u8.loads(client.get("/playlist/ch.m3u8").get_data(as_text=True))
    assert [p.uri for p in implicit.playlists] == [
        "/playlist/ch/source.m3u8",
        "/playlist/ch/low.m3u8",
    ]
    none = client.get("/playlist/ch.m3u8?start=2026-11-28T00:00:00&end=2026-11-28T01:00:00")
    assert none.status_code == 404
    assert b"no quality of 'ch' has video" in none.data


def test_metrics_count_by_endpoint_and_status(client):
    # A request is counted when its response is closed (streamed ones end late).
    for response in (client.get("/files"), client.get("/files/.nope"), client.get("/files/.nope"),
                     client.post("/files")):  # fmt: skip
        response.close()
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fastseg_restreamer_requests_total", endpoint="listings.channels",
                  status="200", method="GET") == 1  # fmt: skip
    assert metric(text, "fastseg_restreamer_requests_total", endpoint="listings.qualities",
                  status="400") == 2  # fmt: skip
    # A request that matches no route (or no method of one) counts as "unmatched",
    # which keeps the label's values few whatever clients send.
    assert metric(text, "fastseg_restreamer_requests_total", endpoint="unmatched",
                  status="405", method="POST") == 1  # fmt: skip
    assert metric(text, "fastseg_restreamer_request_duration_seconds_count",
                  endpoint="listings.qualities", method="GET") == 2  # fmt: skip


def test_every_response_allows_cors(client, base):
    path = sorted((base / "ch" / "source" / "2026-11-27T18").iterdir())[0]
    for response in (
        client.get("/files"),
        client.get(segment_url(path)),
        client.get("/playlist/ch/source.m3u8"),
        client.get("/metrics"),
        client.get("/nope"),
        client.delete("/files"),
        client.options("/files"),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_create_app_needs_a_base(make_client, tmp_path):
    with pytest.raises(ValueError, match="is not a directory: give the archive root"):
        make_client(tmp_path / "missing")


def test_listing_is_json_array_text(client):
    assert json.loads(client.get("/files/ch").data) == ["low", "source"]


def test_segment_fast_path_answers_like_the_view(client, base):
    """Plain GETs skip Flask (services.restreamer.segments.FastPath); the answer is the same."""
    path = sorted((base / "ch" / "source" / "2026-11-27T18").iterdir())[0]
    fast = client.get(segment_url(path))
    # a conditional header that does not match sends the request through the Flask view
    view = client.get(segment_url(path), headers={"If-None-Match": '"other"'})
    assert fast.status_code == view.status_code == 200
    assert fast.data == view.data == path.read_bytes()
    assert sorted(fast.headers.items()) == sorted(view.headers.items())
    fast.close()
    view.close()
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "fastseg_restreamer_requests_total", endpoint="segments.segment",
                  method="GET", status="200") == 2  # fmt: skip
    assert metric(text, "fastseg_restreamer_segment_bytes_total") == 2 * 2000
