"""What the restreamer accepts from clients, checked before anything touches the disk."""

import datetime as dt
import errno

import pytest

from services.restreamer.validation import (
    BadRequest,
    archive_path,
    check_bool,
    check_hour,
    check_part,
    check_range,
    check_segment_name,
    not_found_for,
    parse_time,
)

NAME = "05:12.345-2.002-full-47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU.ts"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-11-27T17:05:12", dt.datetime(2026, 11, 27, 17, 5, 12), id="seconds"),
        pytest.param(
            "2026-11-27T17:05:12.5", dt.datetime(2026, 11, 27, 17, 5, 12, 500000), id="one digit"
        ),  # fmt: skip
        pytest.param(
            "2026-11-27T17:05:12.123456Z",
            dt.datetime(2026, 11, 27, 17, 5, 12, 123456),
            id="micro and Z",
        ),  # fmt: skip
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_time_accepts_utc_iso(text, expected):
    assert parse_time(text, "start") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("yesterday", "is not a time: give UTC", id="words"),
        pytest.param("2026-11-27 17:05:12", "is not a time: give UTC", id="space"),
        pytest.param("2026-11-27T17:05", "is not a time: give UTC", id="no seconds"),
        pytest.param("2026-11-27T17:05:12.1234567", "is not a time: give UTC", id="7 digits"),
        pytest.param("2026-11-27T17:05:12+01:00", "is not a time: give UTC", id="offset"),
        pytest.param("2026-11-27T17:05:12+00:00", "is not a time: give UTC", id="+00:00"),
        pytest.param("2026-02-30T17:05:12", r"is not a time \(", id="30 feb"),
        pytest.param("2026-11-27T24:00:00", r"is not a time \(", id="hour 24"),
        pytest.param("1970-01-01T00:00:00", "outside 2000 to 2200", id="too early"),
        pytest.param("9999-01-01T00:00:00", "outside 2000 to 2200", id="too late"),
        pytest.param("２０２６-11-27T17:05:12", "is not a time: give UTC", id="fullwidth digits"),
    ],
)
def test_parse_time_refuses_with_reason(text, reason):
    with pytest.raises(BadRequest, match=reason) as info:
        parse_time(text, "start")
    assert "start" in info.value.description
    assert "\n" not in info.value.description


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param("..", "starts with '.'", id="dotdot"),
        pytest.param(".hidden", "starts with '.'", id="hidden"),
        pytest.param("a/b", "contains '/'", id="slash"),
        pytest.param("a\\b", "contains", id="backslash"),
        pytest.param("a\0b", "contains", id="nul"),
        pytest.param("a\nb", "contains", id="newline"),
        pytest.param("x" * 256, "over 255", id="long"),
    ],
)
def test_check_part_refuses(part, reason):
    with pytest.raises(BadRequest, match=reason):
        check_part(part, "channel")


def test_check_part_accepts_plain_names():
    assert check_part("desertbus", "channel") == "desertbus"
    assert check_part("720p60 a.b", "quality") == "720p60 a.b"


def test_check_hour():
    assert check_hour("2026-11-27T17") == dt.datetime(2026, 11, 27, 17)
    for bad in ("2026-11-27T25", "2026-11-27", "2026-11-27T17:00", "..", ""):
        with pytest.raises(BadRequest, match="is not YYYY-MM-DDTHH"):
            check_hour(bad)


def test_check_segment_name():
    assert check_segment_name(NAME).duration == dt.timedelta(seconds=2.002)
    with pytest.raises(BadRequest, match="does not end in '.ts'"):
        check_segment_name(NAME + ".tombstone")
    with pytest.raises(BadRequest, match="starts with '.'"):
        check_segment_name("." + NAME)
    with pytest.raises(BadRequest, match="type 'bogus'"):
        check_segment_name(NAME.replace("full", "bogus"))


def test_check_range():
    a, b = dt.datetime(2026, 11, 27, 17), dt.datetime(2026, 11, 27, 18)
    assert check_range(a, b, dt.timedelta(hours=1)) == (a, b)
    assert check_range(a, a, dt.timedelta(0)) == (a, a)
    with pytest.raises(BadRequest, match="end 2026-11-27T17:00:00 is before start"):
        check_range(b, a, dt.timedelta(hours=2))
    with pytest.raises(BadRequest, match="longer than the 0:59:00 allowed"):
        check_range(a, b, dt.timedelta(minutes=59))


def test_check_bool():
    assert check_bool("true", "x") is True
    assert check_bool("FALSE", "x") is False
    assert check_bool(None, "x", default=True) is True
    with pytest.raises(BadRequest, match="'maybe' is not true or false"):
        check_bool("maybe", "x")


def test_archive_path_checks_each_name_then_joins():
    assert archive_path("/base", "ch", "q", "2026-11-27T17") == "/base/ch/q/2026-11-27T17"
    assert archive_path("/base", "ch") == "/base/ch"
    with pytest.raises(BadRequest, match="quality '..' starts with '.'"):
        archive_path("/base", "ch", "..")
    with pytest.raises(BadRequest, match="channel 'é{40}'... is 510 bytes in UTF-8"):
        archive_path("/base", "é" * 255)
    with pytest.raises(BadRequest, match="hour '2026-11-27' is not YYYY-MM-DDTHH"):
        archive_path("/base", "ch", "q", "2026-11-27")


@pytest.mark.parametrize(
    ("code", "path", "is_404"),
    [
        pytest.param(errno.ENAMETOOLONG, "/base/ch/q", True, id="name too long"),
        pytest.param(errno.ENOTDIR, "/base/stray/q", True, id="a file on the way"),
        pytest.param(errno.ELOOP, "/base/loop/q", True, id="symlink loop"),
        pytest.param(errno.ENOENT, "/usr/bin/ffmpeg", False, id="outside BASE: a fault"),
        pytest.param(errno.EACCES, "/base/ch", False, id="permissions: a fault"),
        pytest.param(errno.ENOSPC, "/base/ch/x", False, id="disk full: a fault"),
    ],
)
def test_os_errors_about_a_path_of_names_are_404s(code, path, is_404):
    answer = not_found_for(OSError(code, "whatever", path), "/base")
    assert (answer is not None) == is_404
    if is_404:
        assert answer.code == 404
        assert answer.description.startswith(f"no {path[len('/base/') :]!r} in the archive")
