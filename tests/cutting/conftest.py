"""Archives of the test streams for the cutting tests, and their decoded frames."""

import datetime as dt

import pytest

import fastseg
from tests.cutting import checks
from tests.media import store_stream

#: The archive starts 3 s before an hour, so cuts cross an hour directory.
T0 = dt.datetime(2026, 11, 27, 17, 59, 57)
SECONDS = 12  # six 2-second segments


class Archive:
    """A stream stored under BASE/ch/src from T0, with its decoded source frames."""

    def __init__(self, stream, base, tmp):
        self.stream = stream
        self.base = base
        self.hours = str(base / "ch" / "src")
        self.paths = store_stream(stream, base, "ch", "src", T0)
        self.source = checks.concat_source(stream.segments, tmp / "source.bin", stream.fmp4)
        self._frames = None
        self._onsets = None
        self.frames_per_segment = round(stream.rate * stream.params["segment_seconds"])

    @property
    def frames(self):
        if self._frames is None:
            self._frames = checks.gray_frames(self.source, self.stream.size)
        return self._frames

    @property
    def onsets(self):
        if self._onsets is None:
            self._onsets = checks.beep_onsets(self.source)
        return self._onsets

    def at(self, seconds: float) -> dt.datetime:
        return T0 + dt.timedelta(microseconds=round(seconds * 1_000_000))

    def segments(self, start: dt.datetime, end: dt.datetime, allow_holes: bool = False):
        fastseg.clear_cache()
        return fastseg.get_best_segments(self.hours, start, end, allow_holes)


_archives: dict = {}


def _archive(kind, stream_factory, tmp_path_factory) -> Archive:
    if kind not in _archives:
        stream = stream_factory(seconds=SECONDS, fmp4=kind == "fmp4")
        tmp = tmp_path_factory.mktemp(f"archive-{kind}")
        _archives[kind] = Archive(stream, tmp / "base", tmp)
    return _archives[kind]


@pytest.fixture(scope="session", params=["ts", "fmp4"])
def archive(request, stream_factory, tmp_path_factory) -> Archive:
    """A 12-second 320x180 stream stored as MPEG-TS or as fMP4 segments."""
    return _archive(request.param, stream_factory, tmp_path_factory)


@pytest.fixture(scope="session")
def ts_archive(stream_factory, tmp_path_factory) -> Archive:
    """The MPEG-TS archive alone, for cases about TS bytes."""
    return _archive("ts", stream_factory, tmp_path_factory)


@pytest.fixture(scope="session")
def fmp4_archive(stream_factory, tmp_path_factory) -> Archive:
    """The fMP4 archive alone."""
    return _archive("fmp4", stream_factory, tmp_path_factory)
