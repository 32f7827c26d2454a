"""The local upload location, and ``--location`` parsing."""

import json
import os

import pytest

from services.cutter.upload import (
    LocalLocation,
    UploadError,
    VideoMeta,
    YouTubeLocation,
    parse_location,
)
from services.cutter.upload.local import safe_title


def chunks(n=3):
    for i in range(n):
        yield bytes([i]) * 1000


def test_writes_title_id_ext_atomically_with_sidecar(tmp_path):
    loc = LocalLocation(
        "clips", tmp_path / "out", url_prefix="https://clips.example/v", sidecar=True
    )
    seen_at_finalize = []
    meta = VideoMeta("Run: 1/2?", "desc", ("a", "b"), "ts")
    result = loc.upload(
        meta, chunks(), lambda: seen_at_finalize.append(sorted(os.listdir(loc.directory)))
    )
    name = f"Run_ 1_2_-{result.video_id}.ts"
    assert sorted(os.listdir(loc.directory)) == sorted([name, f"Run_ 1_2_-{result.video_id}.json"])
    assert (tmp_path / "out" / name).read_bytes() == b"".join(chunks())
    assert result.link == f"https://clips.example/v/{name.replace(' ', '%20')}"
    assert result.transcoding is False
    # At finalize time only the hidden temp file existed: nothing visible yet.
    assert [n for n in seen_at_finalize[0] if not n.startswith(".")] == []
    sidecar = json.loads((tmp_path / "out" / f"Run_ 1_2_-{result.video_id}.json").read_text())
    assert sidecar == {
        "title": "Run: 1/2?",
        "description": "desc",
        "tags": ["a", "b"],
        "privacy": "public",
    }


def test_two_uploads_of_one_title_do_not_collide(tmp_path):
    loc = LocalLocation("clips", tmp_path)
    a = loc.upload(VideoMeta("same"), chunks(), lambda: None)
    b = loc.upload(VideoMeta("same"), chunks(), lambda: None)
    assert a.video_id != b.video_id
    assert len(os.listdir(tmp_path)) == 2
    assert a.link.startswith(f"file://{tmp_path}/same-")


class Stolen(Exception):
    pass


def test_finalize_refusal_leaves_nothing(tmp_path):
    loc = LocalLocation("clips", tmp_path, sidecar=True)

    def refuse():
        raise Stolen("row is not ours")

    with pytest.raises(Stolen):
        loc.upload(VideoMeta("t"), chunks(), refuse)
    assert os.listdir(tmp_path) == []


def test_failing_cut_leaves_nothing(tmp_path):
    loc = LocalLocation("clips", tmp_path)

    def broken():
        yield b"x" * 10
        raise RuntimeError("ffmpeg died")

    with pytest.raises(RuntimeError, match="ffmpeg died"):
        loc.upload(VideoMeta("t"), broken(), lambda: None)
    assert os.listdir(tmp_path) == []


def test_unwritable_directory_is_retryable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    loc = LocalLocation("clips", blocker / "sub")
    with pytest.raises(UploadError, match="cannot write into") as info:
        loc.upload(VideoMeta("t"), chunks(), lambda: None)
    assert info.value.retryable is True


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("", "video"),
        ("...", "video"),
        ("ok name", "ok name"),
    ],
)
def test_safe_title(title, expected):
    assert safe_title(title) == expected


def test_parse_local_location(tmp_path):
    loc = parse_location(
        f"clips=local:{tmp_path};url=https://x.example/c/;sidecar;full=container=mp4,crf=20"
    )
    assert isinstance(loc, LocalLocation)
    assert (loc.name, loc.directory, loc.url_prefix, loc.sidecar) == (
        "clips",
        str(tmp_path),
        "https://x.example/c/",
        True,
    )
    assert (loc.encoding.container, loc.encoding.crf) == ("mp4", 20)
    assert parse_location(f"c=local:{tmp_path}").encoding is None  # fast cuts by default


def test_parse_youtube_location(tmp_path):
    path = tmp_path / "yt.json"
    path.write_text(json.dumps({"client_id": "a", "client_secret": "b", "refresh_token": "c"}))
    loc = parse_location(f"yt=youtube:{path}")
    assert isinstance(loc, YouTubeLocation)
    assert loc.privacy == "public"  # the most public allowed: each event says which


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clips", "is not NAME=BACKEND:OPTIONS"),
        ("=local:/x", "is not NAME=BACKEND:OPTIONS"),
        ("c=ftp:/x", "backend 'ftp' is not one of local, youtube"),
        ("c=local:", "local needs a directory"),
        ("c=youtube:", "youtube needs the path of its JSON settings"),
        ("c=local:/x;colour=red", r"unknown settings \['colour'\]"),
        ("c=local:/x;full=container=avi", "container 'avi' is not one of"),
        ("c=youtube:/no/such.json", "cannot read YouTube settings from '/no/such.json'"),
    ],
)
def test_bad_locations(text, message):
    with pytest.raises(ValueError, match=message):
        parse_location(text)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"client_id": "a"}, "lack client_secret, refresh_token"),
        (
            {"client_id": "a", "client_secret": "b", "refresh_token": "c", "privacy": "secret"},
            "privacy 'secret'",
        ),
        (
            {"client_id": "a", "client_secret": "b", "refresh_token": "c", "chunk_size": 1000},
            "chunk_size 1000",
        ),
    ],
)
def test_bad_youtube_settings(tmp_path, config, message):
    path = tmp_path / "yt.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message):
        YouTubeLocation("yt", str(path))
