"""Reading the PNGs the restreamer draws: size from the header, pixels through ffmpeg."""

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
