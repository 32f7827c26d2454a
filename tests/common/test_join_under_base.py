"""``archive.join_under_base``: the one way a writer turns names into a path under BASE."""

import os

import pytest

from services.archive.layout import OutsideBase, join_under_base
from services.archive.names import UnsafeName


def test_safe_parts_join_under_base(tmp_path):
    path = join_under_base(str(tmp_path), "chan", "source", "2026-11-27T17")
    assert path == os.path.join(tmp_path, "chan", "source", "2026-11-27T17")
    assert not os.path.exists(path)  # joining creates nothing


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        pytest.param("..", "starts with '.'", id="climb"),
        pytest.param("../../tmp/x", "starts with '.'", id="climb further"),
        pytest.param("/tmp/x", "contains '/'", id="absolute"),
        pytest.param(".fastseg", "starts with '.'", id="hidden"),
        pytest.param("é" * 255, "510 bytes in UTF-8", id="too long in bytes"),
        pytest.param("", "is empty", id="empty"),
    ],
)
def test_a_part_that_is_not_one_name_is_refused(tmp_path, part, reason):
    with pytest.raises(UnsafeName, match=f"^quality .*{reason}"):
        join_under_base(str(tmp_path), "chan", part, what="quality")


def test_a_symlink_out_of_base_is_refused(tmp_path):
    base, elsewhere = tmp_path / "base", tmp_path / "elsewhere"
    base.mkdir()
    elsewhere.mkdir()
    (base / "chan").symlink_to(elsewhere)
    with pytest.raises(OutsideBase, match="outside the archive .*replace the symlink"):
        join_under_base(str(base), "chan", "source")


def test_a_symlink_inside_base_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert join_under_base(str(tmp_path), "alias", "q") == os.path.join(tmp_path, "alias", "q")
