"""Thumbnails: a frame placed under a template's artwork, and the JPEG YouTube takes.

A template is a PNG whose transparent area shows the frame (docs/DESIGN.md#thumbnails).
As in wubloader, the frame is cropped to ``crop``, scaled to the size of ``location``
and placed there on a transparent canvas the template's size, and the template is
composited over it. ffmpeg does the pixels (``crop``, ``scale``, ``pad``, ``overlay``):
it is already what decodes every frame, so no imaging library is needed.
"""

import logging
import os
import struct
import tempfile

from services.cutting.errors import CutError
from services.cutting.ffmpeg import ffmpeg

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_SIDE",
    "YOUTUBE_SIZE",
    "BadImage",
    "check_png",
    "check_template",
    "compose",
    "png_size",
    "youtube_jpeg",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # YouTube's limit for a thumbnail, ours for a template
MAX_SIDE = 4096  # pixels a side
YOUTUBE_SIZE = (1280, 720)  # what YouTube recommends, and what the cutter uploads
JPEG_QUALITIES = (2, 4, 8, 16, 31)  # ffmpeg's -q:v, best first: the first under the limit wins

Box = tuple[int, int, int, int]


class BadImage(ValueError):
    """An image that is not a PNG we take, or a box that does not fit it; says which."""


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header; BadImage if it is not a PNG."""
    # the signature, then the IHDR chunk: length, b"IHDR", width, height (RFC 2083 4.1.1)
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR" or len(data) < 24:
        raise BadImage("the image is not a PNG: send a .png file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check_png(data: bytes, what: str = "the image") -> tuple[int, int]:
    """(width, height) of a PNG within the limits; BadImage saying which it breaks."""
    if len(data) > MAX_IMAGE_BYTES:
        raise BadImage(
            f"{what} is {len(data)} bytes, over {MAX_IMAGE_BYTES} (2 MiB): save it smaller"
        )
    try:
        width, height = png_size(data)
    except BadImage:
        raise BadImage(f"{what} is not a PNG: send a .png file") from None
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise BadImage(
            f"{what} is {width}x{height} pixels: at most {MAX_SIDE} a side (1280x720 is usual)"
        )
    return width, height


def _fits(box: Box, size: tuple[int, int], name: str, of: str) -> None:
    left, top, right, bottom = box
    if right > size[0] or bottom > size[1]:
        raise BadImage(
            f"{name} {left},{top},{right},{bottom} reaches outside the {of} "
            f"({size[0]}x{size[1]} pixels): keep it within"
        )


def check_template(image: bytes, location: Box, what: str = "the template") -> None:
    """BadImage unless ``image`` is a PNG within the limits that ``location`` fits in."""
    _fits(location, check_png(image, what), "location", what)


def compose(frame_png: bytes, template_png: bytes, crop: Box, location: Box) -> bytes:
    """The thumbnail as an RGBA PNG the template's size.

    Raises BadImage if a box does not fit its picture, CutError if ffmpeg fails.
    """
    _fits(crop, png_size(frame_png), "crop", "frame")
    template_size = png_size(template_png)
    _fits(location, template_size, "location", "template")
    cl, ct, cr, cb = crop
    ll, lt, lr, lb = location
    graph = (
        f"[0:v]crop={cr - cl}:{cb - ct}:{cl}:{ct},scale={lr - ll}:{lb - lt}:flags=lanczos,"
        f"format=rgba,pad={template_size[0]}:{template_size[1]}:{ll}:{lt}:color=0x00000000[f];"
        "[f][1:v]overlay=0:0:format=rgb,format=rgba"  # rgb: no chroma subsampling
    )
    # ffmpeg reads one input on stdin: the template goes through a private temp file
    fd, path = tempfile.mkstemp(prefix="fastseg-template-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(template_png)
        args = ["-f", "png_pipe", "-i", "pipe:0", "-f", "png_pipe", "-i", path,
                "-filter_complex", graph, "-frames:v", "1",
                "-f", "image2pipe", "-c:v", "png", "pipe:1"]  # fmt: skip
        png = ffmpeg(args, [frame_png], what="thumbnail composition").read_all()
    finally:
        os.unlink(path)
    if not png:
        raise CutError("ffmpeg composed no thumbnail")
    return png


def youtube_jpeg(png: bytes) -> bytes:
    """The picture as a 1280x720 JPEG under 2 MiB (letterboxed if not 16:9; alpha on black).

    Raises CutError if ffmpeg fails or no quality gets it under the limit.
    """
    width, height = YOUTUBE_SIZE
    vf = (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=lanczos,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuvj420p"
    )
    for quality in JPEG_QUALITIES:
        args = ["-f", "png_pipe", "-i", "pipe:0", "-vf", vf, "-frames:v", "1",
                "-q:v", str(quality), "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"]  # fmt: skip
        jpeg = ffmpeg(args, [png], what="thumbnail JPEG").read_all()
        if jpeg and len(jpeg) <= MAX_IMAGE_BYTES:
            return jpeg
        logger.info("thumbnail JPEG at quality %d is %d bytes: trying smaller", quality, len(jpeg))
    raise CutError(f"cannot make the thumbnail a JPEG under {MAX_IMAGE_BYTES} bytes")
