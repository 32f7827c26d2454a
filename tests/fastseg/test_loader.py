"""The loader: the compiled twin is used whenever it was built, unless FASTSEG_PURE=1."""

import os
import subprocess
import sys

import pytest

import fastseg
from conftest import FORCED_PURE, _segments_c
from fastseg import _segments_py


def loaded_in_child(**env) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import fastseg; print(fastseg.IMPLEMENTATION)"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_compiled_twin_is_loaded_when_built():
    """CI must not pass by testing the pure twin twice."""
    if FORCED_PURE:
        assert fastseg.IMPLEMENTATION == "pure"
    elif _segments_c is not None:
        assert fastseg.IMPLEMENTATION == "compiled"
    else:
        assert fastseg.IMPLEMENTATION == "pure"


@pytest.mark.skipif(
    os.environ.get("FASTSEG_REQUIRE_EXTENSION") != "1",
    reason="only where the build promised the extension (CI, Docker)",
)
def test_extension_was_built_where_required():
    assert _segments_c is not None, "FASTSEG_REQUIRE_EXTENSION=1 but fastseg._segments_c is missing"


def test_fastseg_pure_forces_the_pure_twin():
    assert loaded_in_child(FASTSEG_PURE="1") == "pure"


@pytest.mark.skipif(_segments_c is None, reason="the compiled twin is not built")
def test_without_the_variable_the_compiled_twin_loads():
    env = {k: v for k, v in os.environ.items() if k != "FASTSEG_PURE"}
    out = subprocess.run(
        [sys.executable, "-c", "import fastseg; print(fastseg.IMPLEMENTATION)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "compiled"


def test_both_twins_export_the_same_names():
    if _segments_c is None:
        pytest.skip("the compiled twin is not built")
    assert _segments_c.__all__ == _segments_py.__all__
    for name in _segments_py.__all__:
        assert callable(getattr(_segments_c, name))
