"""``/waveform/CH/Q.png?start=&end=&size=WxH[&color=RRGGBB]``: the audio's peak envelope.

Each run of joined segments is decoded once by ffmpeg, audio only, mixed to mono
and resampled to 8 kHz 16-bit samples, which numpy folds into peaks as they
stream in. Columns in a hole stay transparent. The range is at most two hours
(a longer one is a lot of audio to decode for one picture).

Peaks are kept per hour on disk, :data:`BINS_PER_SECOND` a second (``WAVEFORM_DIR``,
default ``BASE/.fastseg/waveforms``, at most ``WAVEFORM_CACHE_BYTES``): the first
picture touching an hour decodes all of it, later ones of any range and size read
the file. The key is the hour's chosen segment names (which hold their hashes),
so an hour that gains or loses a segment is decoded again; an hour that may
still be recorded (ending less than :data:`SETTLED` ago) is not kept, and only
the part asked for is decoded, as before.
"""

import datetime as dt
import hashlib
import logging
import re

import numpy as np
from flask import Blueprint, Response, current_app, request

import fastseg
from services.archive.times import utc_now
from services.cutting import CutError, decode_audio
from services.restreamer import picture_args as pictures
from services.restreamer.diskcache import DiskCache
from services.restreamer.png import encode_png
from services.restreamer.state import state
from services.restreamer.validation import BadRequest, check_range

logger = logging.getLogger(__name__)

__all__ = ["blueprint", "columns", "hour_peaks", "peaks"]

blueprint = Blueprint("waveforms", __name__)

RATE = 8000  # samples per second decoded; enough for an envelope
MAX_RANGE = dt.timedelta(hours=2)
BINS_PER_SECOND = 50  # peaks kept per second of an hour: 20 ms, 352 KiB an hour as float16
HOUR = dt.timedelta(hours=1)
SETTLED = dt.timedelta(minutes=5)  # an hour that ended this recently may still grow
CACHE_BYTES = 256 * 1024 * 1024
#: Seconds a waveform job may run per second of audio it decodes (8 kHz mono: cheap).
COST = 0.05
MAX_SIZE = (4096, 1024)
DEFAULT_SIZE = (1024, 64)
DEFAULT_COLOUR = (48, 80, 192)
_SIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


def _size() -> tuple[int, int]:
    text = request.args.get("size") or ""
    if not text:
        return DEFAULT_SIZE
    m = _SIZE.fullmatch(text)
    if not m or not (1 <= int(m[1]) <= MAX_SIZE[0] and 1 <= int(m[2]) <= MAX_SIZE[1]):
        raise BadRequest(f"size {text[:20]!r} is not WIDTHxHEIGHT within "
                         f"{MAX_SIZE[0]}x{MAX_SIZE[1]}, e.g. 1024x64")  # fmt: skip
    return int(m[1]), int(m[2])


def _colour() -> tuple[int, int, int]:
    text = request.args.get("color") or ""
    if not text:
        return DEFAULT_COLOUR
    m = _COLOUR.fullmatch(text)
    if not m:
        raise BadRequest(f"color {text[:20]!r} is not RRGGBB hex, e.g. 3050c0")
    return tuple(bytes.fromhex(m[1]))


def peaks(segments, start: dt.datetime, end: dt.datetime, width: int) -> np.ndarray:
    """Peak |sample| (0-1) per column of ``[start, end)``; NaN where no audio was decoded."""
    out = np.full(width, np.nan)
    total = (end - start).total_seconds() * RATE  # samples across the picture
    for run in decode_audio(segments, RATE):
        index = (run.start - start).total_seconds() * RATE  # sample number of the run's start
        carry = b""
        for chunk in run.samples:
            chunk = carry + chunk
            usable = len(chunk) - len(chunk) % 2
            carry = chunk[usable:]
            samples = np.abs(np.frombuffer(chunk[:usable], dtype="<i2").astype(np.int32))
            cols = ((index + np.arange(len(samples))) * width / total).astype(np.int64)
            index += len(samples)
            keep = (cols >= 0) & (cols < width)
            if not keep.any():
                continue
            samples, cols = samples[keep], cols[keep]
            starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
            values = np.maximum.reduceat(samples, starts) / 32768
            where = cols[starts]
            out[where] = np.fmax(out[where], values)
    return out


def draw(levels: np.ndarray, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    """RGBA pixels: a bar per column, centred; NaN columns transparent.

    A bar is as tall as the square root of its peak, so quiet speech shows
    beside loud music (a peak of 1/4 fills half the height).
    """
    width = len(levels)
    half = np.where(np.isnan(levels), -1, np.ceil(np.sqrt(np.nan_to_num(levels)) * height / 2))
    rows = np.abs(np.arange(height) - (height - 1) / 2)[:, None]  # distance from the middle
    on = rows <= np.maximum(half, 0.5)[None, :]
    on &= ~np.isnan(levels)[None, :]
    image = np.zeros((height, width, 4), dtype=np.uint8)
    image[on] = (*colour, 255)
    return image


def hour_peaks(
    path: str,
    hour: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    cache: DiskCache | None,
    metrics=None,
) -> np.ndarray:
    """The peaks of ``hour`` (BINS_PER_SECOND a second, NaN without audio); for an hour
    still settling, only those within ``[start, end)`` (the rest NaN)."""
    width = int(HOUR.total_seconds()) * BINS_PER_SECOND
    settled = cache is not None and hour + HOUR + SETTLED <= utc_now()
    if not settled:
        segments = fastseg.get_best_segments(path, max(start, hour), min(end, hour + HOUR))
        return peaks(segments, hour, hour + HOUR, width)
    segments = fastseg.get_best_segments(path, hour, hour + HOUR)
    names = "\0".join(s.path for s in segments if s is not None)
    key = hashlib.sha256(f"{path}\0{hour:%Y-%m-%dT%H}\0{names}".encode()).hexdigest()[:40]
    data = cache.get(key + ".f16")
    if data is not None and len(data) == width * 2:
        if metrics is not None:
            metrics.waveform_cache.labels("hit").inc()
        return np.frombuffer(data, dtype="<f2").astype(np.float64)
    if metrics is not None:
        metrics.waveform_cache.labels("miss").inc()
    levels = peaks(segments, hour, hour + HOUR, width)
    cache.put(key + ".f16", levels.astype("<f2").tobytes())
    return levels


def columns(
    bins: np.ndarray, first_hour: dt.datetime, start: dt.datetime, end: dt.datetime, width: int
) -> np.ndarray:
    """Peak per picture column of ``[start, end)`` from bins starting at ``first_hour``."""
    span = (end - start).total_seconds()
    offset = (start - first_hour).total_seconds()
    edges = offset + np.arange(width + 1) * (span / width)
    index = np.floor(edges * BINS_PER_SECOND).astype(np.int64)
    lo = np.clip(index[:-1], 0, len(bins) - 1)
    hi = max(int(index[-1]), int(lo[-1]) + 1)  # a column narrower than a bin shows that bin
    with np.errstate(invalid="ignore"):
        return np.fmax.reduceat(bins[:hi], lo)


@blueprint.route("/waveform/<channel>/<quality>.png")
def waveform(channel: str, quality: str) -> Response:
    path = pictures.hours_path(channel, quality)
    start = pictures.required_time("start")
    end = pictures.required_time("end")
    try:
        check_range(start, end, MAX_RANGE)
    except BadRequest:
        state().jobs.refuse("waveform", "range")
        raise
    if start == end:
        raise BadRequest(f"start and end are both {start.isoformat()}: a waveform needs a range")
    width, height = _size()
    colour = _colour()
    segments = fastseg.get_best_segments(path, start, end)
    if all(s is None for s in segments):
        raise pictures.NotFound(f"no video in {channel}/{quality} from {start.isoformat()} "
                                f"to {end.isoformat()}")  # fmt: skip
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while not hours or hours[-1] + HOUR < end:
        hours.append(first_hour + HOUR * len(hours))
    cache = current_app.extensions["waveforms"]
    seconds = len(hours) * HOUR.total_seconds() * COST
    with state().jobs.job("waveform", request.environ, seconds) as job:
        try:
            bins = np.concatenate([hour_peaks(path, h, start, end, cache, state().metrics)
                                   for h in hours])  # fmt: skip
        except CutError as exc:
            logger.info("cannot draw the waveform of %s/%s: %s", channel, quality, exc)
            raise job.failure(exc, "waveform") or pictures.CannotDecode(
                f"cannot decode the audio: {str(exc).splitlines()[0]}"
            ) from exc
    levels = columns(bins, first_hour, start, end, width)
    response = Response(encode_png(draw(levels, height, colour)), mimetype="image/png")
    return response
