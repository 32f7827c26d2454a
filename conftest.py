"""Fixtures for the whole suite: the fastseg twin under test, and cached test video."""

import os

import pytest

import fastseg
from fastseg import _segments_py

try:
    from fastseg import _segments_c
except ImportError:
    _segments_c = None

FORCED_PURE = os.environ.get("FASTSEG_PURE") == "1"


def pytest_report_header(config):
    built = "built" if _segments_c is not None else "NOT built"
    forced = " (FASTSEG_PURE=1: compiled cases skipped)" if FORCED_PURE else ""
    return f"fastseg: loaded {fastseg.IMPLEMENTATION}; compiled twin {built}{forced}"


@pytest.fixture(
    params=[
        pytest.param(_segments_py, id="pure"),
        pytest.param(_segments_c, id="compiled", marks=pytest.mark.compiled),
    ]
)
def impl(request, monkeypatch):
    """The public ``fastseg`` API, running on one twin (both, across the params)."""
    if request.param is None:
        pytest.skip("the compiled twin is not built")
    if FORCED_PURE and request.param is _segments_c:
        pytest.skip("FASTSEG_PURE=1 forces the pure twin")
    monkeypatch.setattr(fastseg, "_impl", request.param)
    request.param.clear_cache()
    yield fastseg
    request.param.clear_cache()


@pytest.fixture(scope="session")
def stream_factory(tmp_path_factory):
    """``stream_factory(**make_stream_kwargs)``: each distinct stream is encoded once a session."""
    from tests.media import make_stream  # noqa: PLC0415 - keeps plain unit tests free of it

    made = {}

    def factory(**kwargs):
        key = tuple(sorted(kwargs.items()))
        if key not in made:
            made[key] = make_stream(tmp_path_factory.mktemp("stream"), **kwargs)
        return made[key]

    return factory
