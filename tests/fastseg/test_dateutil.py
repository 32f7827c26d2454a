"""Timestamp parsing for users (lenient) and the HTTP API (strict)."""

import datetime as dt

import pytest

from fastseg.dateutil import parse, parse_utc_only

T = dt.datetime(2026, 11, 27, 17, 5, 12, 500000)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T17:05:12.5",
        "2026-11-27T17:05:12.500000Z",
        "2026-11-27T18:05:12.5+01:00",
        "2026-11-27T12:05:12.5-05:00",
        "2026-11-27 17:05:12.5",
        "20261127T170512.5Z",
        "Fri, 27 Nov 2026 17:05:12.5 GMT",
        " 2026-11-27T17:05:12.5 ",
    ],
)
def test_parse_lenient(text):
    assert parse(text) == T


@pytest.mark.parametrize("text", ["", "   ", "yesterday-ish", "2026-13-45T99:00", None])
def test_parse_lenient_rejects(text):
    with pytest.raises(ValueError, match="is not a timestamp: give e.g."):
        parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T17:05:12.5", T),
        ("2026-11-27T17:05:12.5Z", T),
        ("2026-11-27T17:05:12", T.replace(microsecond=0)),
        ("2026-11-27T17:05:12.000001Z", T.replace(microsecond=1)),
    ],
)
def test_parse_utc_only(text, expected):
    assert parse_utc_only(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27 17:05:12",
        "2026-11-27T17:05",
        "2026-11-27T17:05:12.",
        "2026-11-27T17:05:12.1234567",
        "2026-11-27T17:05:12+00:00",
        "2026-11-27T17:05:12z",
        "２０２６-11-27T17:05:12",
        "2026-11-27T17:05:12\n",
        "",
        None,
    ],
)
def test_parse_utc_only_rejects_other_forms(text):
    with pytest.raises(ValueError, match="is not a UTC time of the form YYYY-MM-DDTHH:MM:SS"):
        parse_utc_only(text)


@pytest.mark.parametrize("text", ["2026-02-30T00:00:00", "2026-11-27T24:00:00"])
def test_parse_utc_only_rejects_impossible_times(text):
    with pytest.raises(ValueError, match=f"{text!r} is not a real UTC time"):
        parse_utc_only(text)
