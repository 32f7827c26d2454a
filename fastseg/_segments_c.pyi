"""Stub for the compiled twin: the same API as ``fastseg._segments_py``."""

import datetime
import os
from array import array

from fastseg._common import HourCoverage, SegmentInfo

__all__ = [
    "best_segments_by_start",
    "cache_info",
    "clear_cache",
    "get_best_segments",
    "hour_coverage",
    "parse_segment_path",
    "set_cache_size",
    "playlist_entries",
]

def parse_segment_path(path: str) -> SegmentInfo: ...
def best_segments_by_start(hour_path: str | os.PathLike[str]) -> list[SegmentInfo]: ...
def get_best_segments(
    hours_path: str | os.PathLike[str],
    start: datetime.datetime,
    end: datetime.datetime,
    allow_holes: bool = True,
) -> list[SegmentInfo | None]: ...
def hour_coverage(hour_path: str | os.PathLike[str]) -> HourCoverage: ...
def set_cache_size(hours: int) -> None: ...
def clear_cache() -> None: ...
def cache_info() -> list[tuple[str, bool]]: ...
def playlist_entries(
    segments: list[SegmentInfo], url: str
) -> tuple[bytes, array[int], array[float]]: ...
def _set_object_budget(segments: int) -> None: ...
def _object_info() -> tuple[int, list[str]]: ...
