"""``/cut`` on the real server: rough, fast and full cuts streamed, and every refusal a 4xx."""

import datetime as dt
from pathlib import Path

import pytest
import requests

from tests.media import ffprobe_json
from tests.restreamer.conftest import EDITOR, REAL_START
from tests.waiting import wait_until

START = REAL_START + dt.timedelta(seconds=3)  # inside segment 1
END = REAL_START + dt.timedelta(seconds=15)  # inside segment 7


def cut(server, quality="source", start=START, end=END, **params):
    query = {"start": start.isoformat(), "end": end.isoformat(), **params}
    return requests.get(f"{server.url}/cut/test/{quality}.ts", params=query, headers=EDITOR,
                        timeout=120)  # fmt: skip


def video_frames(path) -> int:
    info = ffprobe_json(path, "-count_packets", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_packets,codec_name")  # fmt: skip
    return int(info["streams"][0]["nb_read_packets"])


def save(response, tmp_path: Path) -> Path:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "video/MP2T"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    out = tmp_path / "cut.ts"
    out.write_bytes(response.content)
    return out


def test_rough_cut_is_whole_segments(real_server, real_stream, tmp_path):
    out = save(cut(real_server, type="rough"), tmp_path)
    # segments 1 to 7, whole
    assert video_frames(out) == round(sum(real_stream.durations[1:8]) * real_stream.rate)


def test_default_cut_is_rough(real_server):
    assert cut(real_server).content == cut(real_server, type="rough").content


@pytest.mark.parametrize("kind", ["fast", "smart", "full", "mpegts"])
def test_frame_exact_cuts(real_server, real_stream, tmp_path, kind):
    params = {"type": kind}
    if kind in ("full", "mpegts"):
        params["encoding"] = "preset=ultrafast,crf=35"
    out = save(cut(real_server, **params), tmp_path)
    # 12 seconds at 30 fps; the first frame may sit a frame off the segment's start
    assert abs(video_frames(out) - 12 * real_stream.rate) <= 1


def test_holes_are_refused_with_where(real_server, real_stream, tmp_path):
    start, end = REAL_START, REAL_START + dt.timedelta(seconds=19)
    refused = cut(real_server, "low", start, end)
    assert refused.status_code == 406
    hole_start = REAL_START + dt.timedelta(seconds=sum(real_stream.durations[:3]))
    hole_end = REAL_START + dt.timedelta(seconds=sum(real_stream.durations[:5]))
    assert f"no complete video from {hole_start.isoformat()} to {hole_end.isoformat()}" in (
        refused.text
    )
    assert "allow_holes=true" in refused.text
    allowed = save(cut(real_server, "low", start, end, allow_holes="true"), tmp_path)
    present = [d for i, d in enumerate(real_stream.durations) if i not in (3, 4)]
    assert video_frames(allowed) == round(sum(present) * real_stream.rate)


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        (
            {"type": "bogus"},
            400,
            "type 'bogus' is not one of rough, fast, smart, full, mpegts (default rough)",
        ),
        ({"type": "mpegts", "encoding": "container=mp4"}, 400, "the .ts route only gives ts"),
        ({"allow_holes": "perhaps"}, 400, "allow_holes 'perhaps' is not true or false"),
        ({"type": "full", "encoding": "container=mp4"}, 400, "the .ts route only gives ts"),
        ({"type": "full", "encoding": "colour=blue"}, 400, "unknown encoding option 'colour'"),
        ({"type": "full", "encoding": "crf=high"}, 400, "is not a whole number"),
        ({"start": ""}, 400, "a cut needs both start and end"),
        ({"end": "2026-11-27T16:00:00"}, 400, "is before start"),
        ({"end": START.isoformat()}, 400, "a cut needs a range"),
        ({"start": "2026-11-28T00:00:00", "end": "2026-11-28T00:01:00"}, 404, "no video in"),
    ],
)
def test_bad_cuts(real_server, params, status, reason):
    query = {"start": START.isoformat(), "end": END.isoformat(), **params}
    response = requests.get(f"{real_server.url}/cut/test/source.ts", params=query,
                            headers=EDITOR, timeout=60)  # fmt: skip
    assert response.status_code == status
    assert reason in response.text
    assert response.text.count("\n") == 1


def test_unknown_quality(real_server):
    response = requests.get(f"{real_server.url}/cut/test/nope.ts",
                            params={"start": START.isoformat(), "end": END.isoformat()},
                            timeout=60)  # fmt: skip
    assert response.status_code == 404
    assert "no quality 'nope'" in response.text


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_abandoned_cut_stops_ffmpeg(real_server):
    """A client that goes away mid-cut leaves no ffmpeg behind on the server."""
    start, end = REAL_START, REAL_START + dt.timedelta(seconds=20)
    params = {"start": start.isoformat(), "end": end.isoformat(), "type": "full",
              "encoding": "preset=veryslow,crf=10"}  # fmt: skip
    with requests.get(f"{real_server.url}/cut/test/source.ts", params=params, stream=True,
                      headers=EDITOR, timeout=60) as response:  # fmt: skip
        assert response.status_code == 200
        assert children(real_server.proc.pid)  # ffmpeg is running for us
        next(response.iter_content(188))
    # Closing the connection closes the response, which kills ffmpeg: poll for it.
    # Polling the process table: there is no event to wait on.
    wait_until(lambda: not children(real_server.proc.pid), "ffmpeg to exit", 30, interval=0.01)
    assert children(real_server.proc.pid) == []


def test_rough_cut_of_fmp4_is_labelled_mp4(stream_factory, make_client, tmp_path):
    """A rough cut is the segments' own bytes, so fMP4 segments give fragmented MP4."""
    from tests.media import store_stream  # noqa: PLC0415

    stream = stream_factory(seconds=6, size="320x180", fmp4=True)
    store_stream(stream, tmp_path / "base", "f", "source", REAL_START)
    client = make_client(tmp_path / "base")
    end = REAL_START + dt.timedelta(seconds=4)
    response = client.get(
        f"/cut/f/source.ts?start={REAL_START.isoformat()}&end={end.isoformat()}&type=rough"
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "video/mp4"
    out = tmp_path / "cut.mp4"
    out.write_bytes(response.data)
    assert video_frames(out) > 0
