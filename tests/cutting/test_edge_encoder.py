"""The one set of video encoder arguments that fast-cut edges and re-encoded stretches share."""

from types import SimpleNamespace

from services.cutting.edges import EDGE_CRF, video_encoder_args


def test_h264_keeps_the_source_profile_and_pixel_format():
    video = SimpleNamespace(codec="h264", pix_fmt="yuv420p", profile="High")
    args = video_encoder_args(video, "-1")
    assert args[:6] == ["-fps_mode", "passthrough", "-enc_time_base:v", "-1", "-c:v", "libx264"]
    assert args[args.index("-crf") + 1] == EDGE_CRF
    assert args[args.index("-bf") + 1] == "0"
    assert args[args.index("-pix_fmt") + 1] == "yuv420p"
    assert args[args.index("-profile:v") + 1] == "high"


def test_hevc_and_unknown_details_add_nothing_unasked():
    video = SimpleNamespace(codec="hevc", pix_fmt=None, profile="Main")
    args = video_encoder_args(video, "1/90000")
    assert args[args.index("-enc_time_base:v") + 1] == "1/90000"
    assert args[args.index("-c:v") + 1] == "libx265"
    assert "-pix_fmt" not in args
    assert "-profile:v" not in args
