"""Reading the PNGs the restreamer draws (and the cutter's JPEG thumbnails): size from the
header, pixels through ffmpeg."""

import struct
import subprocess

import numpy as np


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes, fmt: str = "gray") -> np.ndarray:
    """Decode a PNG with ffmpeg: (height, width) grey or (height, width, 4) for rgba."""
    width, height = png_size(data)
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "png_pipe", "-i", "pipe:0",
         "-vf", f"format={fmt}", "-f", "rawvideo", "pipe:1"],
        input=data, capture_output=True, check=True,
    )  # fmt: skip
    pixels = np.frombuffer(out.stdout, dtype=np.uint8)
    return pixels.reshape(height, width, -1) if fmt != "gray" else pixels.reshape(height, width)


def nearest_frame(frame: np.ndarray, frames: np.ndarray) -> int:
    """Index of the frame in ``frames`` (N, H*W) nearest ``frame`` by mean squared error."""
    errors = ((frames.astype(np.int32) - frame.reshape(1, -1).astype(np.int32)) ** 2).mean(axis=1)
    return int(np.argmin(errors))


def jpeg_pixels(jpeg: bytes, fmt: str = "gray", size=(1280, 720)) -> np.ndarray:
    """A JPEG thumbnail's pixels through ffmpeg: (h, w) grey or (h, w, 3) rgb24; checks its size."""
    assert jpeg[:3] == b"\xff\xd8\xff", jpeg[:8]  # a JPEG's SOI marker
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "jpeg_pipe", "-i", "pipe:0",
         "-f", "rawvideo", "-pix_fmt", fmt, "pipe:1"],
        input=jpeg, capture_output=True, check=True,
    )  # fmt: skip
    width, height = size
    pixels = np.frombuffer(out.stdout, dtype=np.uint8)
    assert pixels.size == width * height * (3 if fmt == "rgb24" else 1), f"not {width}x{height}"
    return pixels.reshape(height, width, -1) if fmt == "rgb24" else pixels.reshape(height, width)


def placed_frame(jpeg: bytes, box, frame=(320, 180)) -> np.ndarray:
    """The region ``box`` of a 1280x720 thumbnail, shrunk back to a grey frame (whole factors)."""
    left, top, right, bottom = box
    width, height = frame
    region = jpeg_pixels(jpeg)[top:bottom, left:right].astype(np.float64)
    fy, fx = (bottom - top) // height, (right - left) // width
    return region.reshape(height, fy, width, fx).mean(axis=(1, 3)).round().astype(np.uint8)
