"""What a full cut over HTTP may encode (services.restreamer.cut_encodings), against this ffmpeg."""

import dataclasses

import pytest

from services.cutting import Encoding
from services.restreamer.cut_encodings import PRESET_ENCODING, check_encoders, preset


@pytest.mark.parametrize(
    ("name", "source_height", "height"),
    [
        pytest.param("720p", 1080, 720, id="scaled down"),
        pytest.param("720p", 720, None, id="same size"),
        pytest.param("1080p", 180, None, id="never upscaled"),
        pytest.param("source", 2160, None, id="source"),
        pytest.param("480p", None, 480, id="source size unknown"),
    ],
)
def test_a_preset_is_never_taller_than_its_source(name, source_height, height):
    assert preset(name, source_height) == dataclasses.replace(PRESET_ENCODING, height=height)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "video_codec=nosuch", "'nosuch' is not a video encoder this ffmpeg has", id="unknown"
        ),  # fmt: skip
        pytest.param("video_codec=aac", "'aac' is not a video encoder", id="audio as video"),
        pytest.param(
            "audio_codec=libx264", "'libx264' is not an audio encoder", id="video as audio"
        ),  # fmt: skip
        pytest.param("width=7680,height=4320", "larger than 3840x2160", id="8K"),
        pytest.param("height=2162", "larger than 3840x2160", id="just taller"),
        pytest.param("video_bitrate=101M", "is above 100M", id="bitrate"),
    ],
)
def test_an_editors_encoding_is_checked_before_ffmpeg_runs(text, reason):
    with pytest.raises(ValueError, match=reason):
        check_encoders(Encoding.parse(text, Encoding(container="ts")))


def test_the_presets_and_a_4k_encoding_pass():
    check_encoders(PRESET_ENCODING)
    check_encoders(Encoding.parse("width=3840,height=2160,video_bitrate=100M", Encoding()))
