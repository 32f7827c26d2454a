"""The one rule for a name that becomes a path component under BASE."""

import pytest

from services.archive.names import (
    MAX_NAME,
    UnsafeName,
    check_name,
    is_hour_name,
    is_safe_name,
    name_problem,
)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param(".", "starts with '.'", id="dot"),
        pytest.param("..", "starts with '.'", id="dotdot"),
        pytest.param(".hidden", "starts with '.'", id="hidden"),
        pytest.param("a/b", "contains '/'", id="slash"),
        pytest.param("../etc", "starts with '.'", id="climb"),
        pytest.param("a/../b", "contains '/'", id="climb inside"),
        pytest.param("a\\b", "contains '\\\\'", id="backslash"),
        pytest.param("a\0b", "contains '\\x00'", id="NUL"),
        pytest.param("a\nb", "contains '\\n'", id="newline"),
        pytest.param("a\u200bb", "contains '\\u200b'", id="zero-width space"),
        pytest.param("caf\udce9", "contains '\\udce9'", id="undecodable byte"),
        pytest.param("x" * (MAX_NAME + 1), f"256 bytes in UTF-8, over {MAX_NAME}", id="too long"),
        pytest.param("é" * MAX_NAME, "510 bytes in UTF-8, over 255", id="255 chars, 510 bytes"),
        pytest.param("東" * 86, "258 bytes in UTF-8, over 255", id="86 chars, 258 bytes"),
        pytest.param(None, "is a NoneType, not text", id="None"),
        pytest.param(b"source", "is a bytes, not text", id="bytes"),
    ],
)
def test_unsafe_names_are_refused_with_a_reason(name, reason):
    assert not is_safe_name(name)
    assert reason in name_problem(name)
    with pytest.raises(UnsafeName) as caught:
        check_name(name, "channel")
    assert str(caught.value).startswith("channel ")
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "name",
    [
        "source",
        "720p60",
        "desert bus",
        "a.b",
        "a..b",
        "café",
        "東京",
        "x" * MAX_NAME,
        "-x",
        "é" * 127 + "x",
        "東" * 85,
    ],  # fmt: skip
)
def test_plain_names_are_safe(name):
    assert is_safe_name(name)
    assert name_problem(name) is None
    assert check_name(name, "quality") == name


def test_a_long_name_is_shown_shortened():
    with pytest.raises(UnsafeName, match=r"channel 'x{40}'\.\.\. is 300 bytes in UTF-8"):
        check_name("x" * 300, "channel")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026-11-27T17", True),
        ("2026-11-27T25", False),
        ("2026-11-27", False),
        ("2026-11-27T17:00", False),
        ("..", False),
        ("", False),
        (None, False),
    ],
)
def test_hour_names(name, expected):
    assert is_hour_name(name) is expected
