"""The loader: the compiled twin is used whenever it was built, unless FASTSEG_PURE=1."""

import json
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


#: What a child prints of fastseg's shared constants and span arithmetic.
_SHARED = """
import json, fastseg
print(json.dumps({
    "implementation": fastseg.IMPLEMENTATION,
    "all": sorted(fastseg.__all__),
    "missing": [n for n in fastseg.__all__ if not hasattr(fastseg, n)],
    "constants": [fastseg.DEFAULT_CACHE_HOURS, fastseg.RACY_NS, fastseg.FUDGE.total_seconds()],
    "merged": fastseg.merge_spans([(0, 10), (5, 20), (10_000, 30_000), (50_000, 60_000)]),
    "span": repr(fastseg.Span),
}))
"""


def _shared_in_child(**env) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _SHARED], env={**os.environ, **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_what_services_use_is_public_and_the_same_with_either_twin():
    """Services import the cache's default, the racy-mtime rule and span merging from
    ``fastseg`` itself, never ``fastseg._common``: whichever twin loaded."""
    pure = _shared_in_child(FASTSEG_PURE="1")
    assert pure["implementation"] == "pure"
    assert pure["missing"] == []
    assert {"DEFAULT_CACHE_HOURS", "RACY_NS", "Span", "merge_spans"} <= set(pure["all"])
    assert pure["constants"] == [512, 2_000_000_000, 0.01]
    assert pure["merged"] == [[0, 30_000], [50_000, 60_000]]  # within FUDGE (10 ms) joined
    if _segments_c is None or FORCED_PURE:
        return
    env = {k: v for k, v in os.environ.items() if k != "FASTSEG_PURE"}
    out = subprocess.run(
        [sys.executable, "-c", _SHARED], env=env, capture_output=True, text=True, check=True
    )
    compiled = json.loads(out.stdout)
    assert compiled["implementation"] == "compiled"
    assert {k: v for k, v in compiled.items() if k != "implementation"} == {
        k: v for k, v in pure.items() if k != "implementation"
    }
