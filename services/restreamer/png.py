"""PNG images from numpy arrays with zlib and struct alone (RFC 2083), so drawing a
waveform needs no imaging library."""

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type: grey, RGB, RGBA


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))  # fmt: skip


def encode_png(pixels: np.ndarray, level: int = 6) -> bytes:
    """An 8-bit PNG of ``pixels``: shape (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA.

    Raises ValueError for another shape, an empty image or a dtype other than uint8.
    """
    if pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in COLOUR_TYPES or 0 in pixels.shape:
        raise ValueError(f"pixels of shape {pixels.shape} are not a grey, RGB or RGBA image")
    height, width, channels = pixels.shape
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0: none
    rows[:, 1:] = pixels.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0)
    data = zlib.compress(rows.tobytes(), level)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
