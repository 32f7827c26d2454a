"""Benchmark fixtures: the generated trees, and batches of real segment paths."""

import os
from pathlib import Path

import pytest

from benchmarks.treegen import make_tree


@pytest.fixture(scope="session")
def tree48() -> Path:
    """BASE/bench/QUALITY for 48 hours and two qualities (~178,000 files, made once)."""
    return make_tree(48) / "bench" / "source"


def path_batch(hours_path: Path, count: int = 2000) -> list[str]:
    """Real segment paths in walk order (grouped by hour), as parsers meet them."""
    paths = []
    for hour in sorted(os.listdir(hours_path)):
        hour_dir = f"{hours_path}/{hour}"
        paths += [f"{hour_dir}/{n}" for n in sorted(os.listdir(hour_dir)) if n.endswith(".ts")]
        if len(paths) >= count:
            break
    return [p for p in paths if "-temp-" not in p][:count]


@pytest.fixture(scope="session")
def tree_week() -> Path:
    """BASE/bench for 170 hours and two qualities (~630,000 files, made once: about a minute)."""
    return make_tree(170) / "bench"


from tests.db.fixtures import pg_dsn, pg_server  # noqa: E402, F401 - the claim benchmark's database
