"""Playlist parsing: what the downloader accepts, and the errors for what it refuses."""

import datetime as dt

import pytest

from services.archive.times import naive_utc
from services.downloader.playlist import (
    PlaylistError,
    parse_master,
    parse_media,
)
from services.downloader.twitch import twitch_quality

URL = "http://origin.test/live/1/source.m3u8"

MEDIA = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-MAP:URI="/init/v.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:05:12.345+01:00
#EXTINF:2.000,
seg41.m4s
#EXTINF:2.000,
seg42.m4s
"""


def test_media_playlist_resolves_uris_and_keeps_times():
    playlist = parse_media(MEDIA, URL)
    assert [s.absolute_uri for s in playlist.segments] == [
        "http://origin.test/live/1/seg41.m4s",
        "http://origin.test/live/1/seg42.m4s",
    ]
    assert playlist.media_sequence == 41
    assert playlist.segments[0].init_section.absolute_uri == "http://origin.test/init/v.mp4"
    assert naive_utc(playlist.segments[0].program_date_time) == dt.datetime(
        2026, 11, 27, 16, 5, 12, 345000
    )
    assert playlist.segments[1].program_date_time is None  # the worker extrapolates


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("", r"does not start with #EXTM3U: ''", id="empty body"),
        pytest.param(
            "<html>502 Bad Gateway</html>",
            r"does not start with #EXTM3U: '<html>",
            id="html error page",
        ),
        pytest.param(
            MEDIA.rsplit("\n", 2)[0] + "\n",
            r"ends in an entry with no URI: truncated",
            id="truncated",
        ),
        pytest.param("#EXTM3U\n#EXT-X-TARGETDURATION:2\n", r"lists no segments", id="no segments"),
        pytest.param(
            "#EXTM3U\n#EXTINF:2,\na.ts\n", r"has no EXT-X-TARGETDURATION", id="no target duration"
        ),
        pytest.param(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n",
            r"does not parse: could not convert",
            id="bad EXTINF",
        ),
        pytest.param(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:2,\na.ts\n",
            r"does not parse: .*'yesterday'",
            id="bad date",
        ),
        pytest.param(
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", r"is a master playlist", id="master"
        ),
        *[
            pytest.param(
                f"#EXTM3U\n#EXT-X-TARGETDURATION:{target}\n#EXTINF:{extinf},\na.ts\n",
                match,
                id=name,
            )
            for target, extinf, match, name in [
                (2, "nan", r"'a.ts' has a bad duration nan", "EXTINF nan"),
                (2, "inf", r"'a.ts' has a bad duration inf", "EXTINF inf"),
                (2, "1e300", r"'a.ts' lasts 1e\+300 s, over 60", "EXTINF 1e300"),
                (2, "-1", r"'a.ts' has a bad duration -1", "EXTINF negative"),
                (-5, "2", r"target duration of -5 s, not 1 to 60", "negative target: a busy loop"),
                (10**9, "2", r"target duration of 1000000000 s", "huge target: a frozen worker"),
            ]
        ],
    ],
)
def test_bad_media_playlists_are_refused_with_the_reason(text, match):
    with pytest.raises(PlaylistError, match=match):
        parse_media(text, URL)


MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="chunked",NAME="1080p60 (source)",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS="avc1.64002A,mp4a.40.2",VIDEO="chunked"
chunked.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p60",NAME="720p60",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="720p60"
720p60.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,NAME="low"
low.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=480x270
270.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000
nameless.m3u8
"""


def test_master_playlist_quality_names():
    variants = parse_master(MASTER, "http://origin.test/master.m3u8")
    assert [(v.quality, v.url) for v in variants] == [
        ("1080p60 (source)", "http://origin.test/chunked.m3u8"),  # video rendition NAME
        ("720p60", "http://origin.test/720p60.m3u8"),
        ("low", "http://origin.test/low.m3u8"),  # the variant's own NAME
        ("270p", "http://origin.test/270.m3u8"),  # else its height
    ]  # the variant with neither is skipped (and logged)


def test_twitch_names_qualities_by_group_with_chunked_as_source():
    variants = parse_master(MASTER, "http://origin.test/master.m3u8", quality_of=twitch_quality)
    assert [v.quality for v in variants][:2] == ["source", "720p60"]


def test_two_variants_with_one_name_keep_the_higher_bandwidth():
    text = (
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1280x720\na.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=9,RESOLUTION=1280x720\nb.m3u8\n"
    )
    (variant,) = parse_master(text, "http://o.test/m.m3u8")
    assert (variant.quality, variant.url) == ("720p", "http://o.test/b.m3u8")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("", r"does not start with #EXTM3U", id="empty"),
        pytest.param(MEDIA, r"is not a master playlist", id="media playlist"),
        pytest.param(
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n",
            r"no variant with a usable name",
            id="unnamed",
        ),
    ],
)
def test_bad_master_playlists_are_refused_with_the_reason(text, match):
    with pytest.raises(PlaylistError, match=match):
        parse_master(text, "http://o.test/m.m3u8")
