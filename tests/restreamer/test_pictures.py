"""``/frame``, ``/thumbnail`` and ``/waveform`` over real ffmpeg-made segments.

The test stream burns its frame number into every picture; frame N is shown
from REAL_START + N/30 s. Each returned picture is matched (by mean squared
error) against ffmpeg's own decode of every source frame.
"""

import datetime as dt
import random

import numpy as np
import pytest

from tests.cutting.checks import gray_frames
from tests.restreamer.conftest import REAL_START
from tests.restreamer.images import nearest_frame, png_pixels, png_size

FPS = 30
US = dt.timedelta(microseconds=1)


@pytest.fixture(scope="module")
def source_frames(real_stream):
    return gray_frames(real_stream.dir / "live.m3u8")


@pytest.fixture
def client(real_base, make_client, tmp_path):
    return make_client(real_base, THUMBNAIL_DIR=str(tmp_path / "thumbs"))


def stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="microseconds") + "Z"


def expected_frame(when: dt.datetime) -> int:
    return (when - REAL_START) // US * FPS // 1_000_000


@pytest.mark.slow
def test_frame_is_the_one_on_screen_at_20_random_times(client, source_frames):
    rng = random.Random(17)
    total = len(source_frames)
    for _ in range(20):
        when = REAL_START + dt.timedelta(microseconds=rng.randrange(total * 1_000_000 // FPS))
        response = client.get(f"/frame/test/source.png?timestamp={stamp(when)}")
        assert response.status_code == 200, response.text
        assert response.mimetype == "image/png"
        assert png_size(response.data) == (320, 180)
        found = nearest_frame(png_pixels(response.data), source_frames)
        assert found == expected_frame(when), stamp(when)


@pytest.mark.slow
def test_frame_at_exact_frame_boundaries(client, source_frames):
    """A frame's own start shows it; a microsecond before shows the frame before."""
    for n in (0, 59, 60, 61, 119, 299):  # 60 frames a segment: either side of joins
        start = REAL_START + dt.timedelta(microseconds=-(-n * 1_000_000 // FPS))
        for when, want in ((start, n), (start - US, n - 1)):
            if want < 0:
                continue
            response = client.get(f"/frame/test/source.png?timestamp={stamp(when)}")
            assert response.status_code == 200, response.text
            assert nearest_frame(png_pixels(response.data), source_frames) == want, stamp(when)


def test_thumbnail_is_small_cached_and_the_same_frame(client, source_frames, tmp_path):
    when = REAL_START + dt.timedelta(seconds=7.51)
    first = client.get(f"/thumbnail/test/source.png?timestamp={stamp(when)}&width=160")
    assert first.status_code == 200, first.text
    assert png_size(first.data) == (160, 90)
    cached = list((tmp_path / "thumbs").iterdir())
    assert len(cached) == 1
    # another instant within the same frame (7.5 s to 7.533 s) is the same cached file
    later = stamp(when + dt.timedelta(milliseconds=15))
    again = client.get(f"/thumbnail/test/source.png?timestamp={later}&width=160")
    assert again.data == first.data
    assert list((tmp_path / "thumbs").iterdir()) == cached
    small = png_pixels(first.data)
    big = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
    assert nearest_frame(big, source_frames) == expected_frame(when)
    default = client.get(f"/thumbnail/test/source.png?timestamp={stamp(when)}")
    assert png_size(default.data) == (320, 180)


def test_thumbnail_cache_stays_within_its_bound(real_base, make_client, tmp_path):
    client = make_client(real_base, THUMBNAIL_DIR=str(tmp_path / "t"), THUMBNAIL_CACHE_BYTES=60_000)
    for second in range(0, 20, 2):
        when = REAL_START + dt.timedelta(seconds=second + 0.5)
        response = client.get(f"/thumbnail/test/source.png?timestamp={stamp(when)}")
        assert response.status_code == 200, response.text
    sizes = [p.stat().st_size for p in (tmp_path / "t").iterdir()]
    assert 0 < sum(sizes) <= 60_000
    assert len(sizes) < 10  # the oldest were evicted


def test_waveform_shows_beeps_and_leaves_holes_blank(client):
    start, end = REAL_START, REAL_START + dt.timedelta(seconds=20)
    url = f"/waveform/test/low.png?start={stamp(start)}&end={stamp(end)}&size=400x40"
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert png_size(response.data) == (400, 40)
    alpha = png_pixels(response.data, "rgba")[:, :, 3]
    drawn = (alpha > 0).any(axis=0)
    # segments 3 and 4 (6 s to 10 s) are missing from test/low: those columns are blank
    assert not drawn[122:198].any()
    assert drawn[:118].all()
    assert drawn[202:398].all()
    # the test tone is lavfi's sine at its default amplitude, 1/8 of full scale:
    # bars are sqrt(1/8) = 0.35 of the height, about 14 pixels of 40
    height = (alpha > 0).sum(axis=0)
    assert 12 <= np.median(height[drawn]) <= 16


def test_waveform_colour_and_default_size(client):
    start, end = REAL_START, REAL_START + dt.timedelta(seconds=4)
    response = client.get(
        f"/waveform/test/source.png?start={stamp(start)}&end={stamp(end)}&color=ff0000"
    )
    assert response.status_code == 200, response.text
    assert png_size(response.data) == (1024, 64)
    rgba = png_pixels(response.data, "rgba")
    drawn = rgba[rgba[:, :, 3] > 0]
    assert (drawn[:, :3] == (255, 0, 0)).all()


T = stamp(REAL_START + dt.timedelta(seconds=3))
HOLE = stamp(REAL_START + dt.timedelta(seconds=7))  # test/low lacks 6 s to 10 s
RANGE = f"start={stamp(REAL_START)}&end={stamp(REAL_START + dt.timedelta(seconds=10))}"


@pytest.mark.parametrize(
    ("url", "status", "reason"),
    [
        ("/frame/test/source.png", 400, "timestamp is required"),
        ("/frame/test/source.png?timestamp=yesterday", 400, "timestamp"),
        ("/frame/test/source.png?timestamp=1066-10-14T12:00:00", 400, "check the year"),
        ("/frame/test/nope.png?timestamp=" + T, 404, "no quality 'nope'"),
        ("/frame/nope/source.png?timestamp=" + T, 404, "no quality 'source' of channel 'nope'"),
        ("/frame/..%5C..%5Cetc/source.png?timestamp=" + T, 400, "starts with"),
        ("/frame/a%5Cb/source.png?timestamp=" + T, 400, "contains"),
        ("/frame/test/a%00b.png?timestamp=" + T, 400, "contains"),
        ("/frame/.hidden/source.png?timestamp=" + T, 400, "starts with '.'"),
        ("/frame/test/low.png?timestamp=" + HOLE, 404, "falls in a hole; video resumes at"),
        ("/frame/test/source.png?timestamp=2026-11-27T18:00:00", 404, "falls in a hole"),
        ("/frame/test/source.png?timestamp=2026-11-27T16:00:00", 404, "falls in a hole"),
        ("/thumbnail/test/source.png?timestamp=" + T + "&width=0", 400, "width '0'"),
        ("/thumbnail/test/source.png?timestamp=" + T + "&width=wide", 400, "width 'wide'"),
        ("/thumbnail/test/source.png?timestamp=" + T + "&width=99999", 400, "from 16 to 1920"),
        ("/thumbnail/test/source.png", 400, "timestamp is required"),
        ("/thumbnail/test/low.png?timestamp=" + HOLE, 404, "falls in a hole"),
        ("/waveform/test/source.png?start=" + T, 400, "end is required"),
        ("/waveform/test/source.png?end=" + T, 400, "start is required"),
        (f"/waveform/test/source.png?start={T}&end={T}", 400, "needs a range"),
        (f"/waveform/test/source.png?start={HOLE}&end={T}", 400, "before start"),
        ("/waveform/test/source.png?start=2026-11-27T10:00:00&end=2026-11-27T13:00:00", 400,
         "longer than the 2:00:00 allowed"),
        (f"/waveform/test/source.png?{RANGE}&size=big", 400, "size 'big'"),
        (f"/waveform/test/source.png?{RANGE}&size=0x10", 400, "size '0x10'"),
        (f"/waveform/test/source.png?{RANGE}&size=9000x10", 400, "within 4096x1024"),
        (f"/waveform/test/source.png?{RANGE}&color=red", 400, "color 'red'"),
        ("/waveform/test/source.png?start=2026-11-27T12:00:00&end=2026-11-27T12:10:00", 404,
         "no video in test/source"),
        ("/waveform/nope/x.png?" + RANGE, 404, "no quality 'x'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_a_one_line_reason(client, url, status, reason):
    response = client.get(url)
    assert response.status_code == status, response.text
    text = response.text.strip()
    assert "\n" not in text
    assert reason in text, text


def test_a_segment_that_is_not_video_is_a_422(real_base, make_client, tmp_path):
    from tests.media import store_segment  # noqa: PLC0415

    base = tmp_path / "base"
    when = dt.datetime(2026, 11, 27, 12, 0, 0)
    store_segment(base, "junk", "source", when, 2.0, b"this is not MPEG-TS" * 100)
    client = make_client(base)
    response = client.get(f"/frame/junk/source.png?timestamp={stamp(when)}")
    assert response.status_code == 422, response.text
    assert "cannot decode the frame" in response.text
    end = when + dt.timedelta(seconds=2)
    response = client.get(f"/waveform/junk/source.png?start={stamp(when)}&end={stamp(end)}")
    assert response.status_code == 422, response.text
    assert not (base / "junk" / "source" / ".fastseg").exists()


@pytest.mark.slow
def test_frame_from_fmp4_segments(stream_factory, make_client, tmp_path):
    from tests.media import store_stream  # noqa: PLC0415

    stream = stream_factory(seconds=6, size="320x180", fmp4=True)
    store_stream(stream, tmp_path / "base", "f", "source", REAL_START)
    client = make_client(tmp_path / "base", THUMBNAIL_DIR=str(tmp_path / "t"))
    frames = gray_frames(stream.dir / "live.m3u8")
    for n in (0, 37, 61, 150):
        when = REAL_START + dt.timedelta(microseconds=-(-n * 1_000_000 // FPS) + 5000)
        response = client.get(f"/frame/f/source.png?timestamp={stamp(when)}")
        assert response.status_code == 200, response.text
        assert nearest_frame(png_pixels(response.data), frames) == n


def test_waveform_columns_take_the_loudest_bin_they_cover():
    from services.restreamer.waveforms import BINS_PER_SECOND, columns  # noqa: PLC0415

    hour = dt.datetime(2026, 11, 27, 17)
    bins = np.full(2 * BINS_PER_SECOND, np.nan)  # two seconds of bins
    bins[:BINS_PER_SECOND] = 0.25
    bins[10] = 0.5  # a short peak in the first column
    # two columns over two seconds: the peak, then silence (no audio: NaN)
    levels = columns(bins, hour, hour, hour + dt.timedelta(seconds=2), 2)
    assert levels[0] == 0.5
    assert np.isnan(levels[1])
    # a column narrower than a bin shows the bin it falls in
    narrow = columns(bins, hour, hour, hour + dt.timedelta(seconds=0.02), 8)
    assert (narrow == 0.25).all()
