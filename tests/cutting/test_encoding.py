"""Encoding: parsing location/CLI options, and choosing the container from a path."""

import pytest

from services.cutting import Encoding


def test_defaults_and_parse():
    enc = Encoding.parse("container=mkv, crf=20,height=720,preset=fast")
    assert enc == Encoding(container="mkv", crf=20, height=720, preset="fast")
    assert enc.video_codec == "libx264"
    assert enc.audio_codec == "aac"
    assert not enc.seekable_output
    assert Encoding().seekable_output
    assert Encoding.parse("") == Encoding()


def test_parse_on_a_base():
    base = Encoding.for_path("clip.ts")
    assert Encoding.parse("video_bitrate=2500k", base) == Encoding(
        container="ts", video_bitrate="2500k"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("colour=red", "unknown encoding option 'colour'", id="unknown key"),
        pytest.param("crf", "'crf' is not KEY=VALUE", id="no value"),
        pytest.param("crf=high", "crf='high' is not a whole number", id="crf not a number"),
        pytest.param("crf=60", "crf 60 is not a whole number from 0 to 51", id="crf too big"),
        pytest.param("container=avi", "container 'avi' is not one of", id="bad container"),
        pytest.param("height=721", "height 721 is not an even number", id="odd height"),
        pytest.param("video_bitrate=fast", "'fast' is not a bitrate", id="bad bitrate"),
        pytest.param("crf=20,video_bitrate=3M", "not both", id="crf and bitrate"),
        pytest.param("preset=quick", "preset 'quick' is not one of", id="bad preset"),
        pytest.param("video_codec=x 264", "is not an ffmpeg encoder name", id="bad codec"),
    ],
)
def test_parse_rejects_bad_options(text, message):
    with pytest.raises(ValueError, match=message):
        Encoding.parse(text)


@pytest.mark.parametrize(
    ("path", "container"),
    [("a/clip.mp4", "mp4"), ("CLIP.MKV", "mkv"), ("x.ts", "ts"), ("x.m4v", "mp4")],
)
def test_for_path(path, container):
    assert Encoding.for_path(path).container == container


def test_for_path_unknown_extension():
    with pytest.raises(ValueError, match=r"cannot tell the container from 'clip\.avi'"):
        Encoding.for_path("clip.avi")
