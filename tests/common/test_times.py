"""The one place for times: lenient for operators, strict for HTTP, one wording for a bad one."""

import argparse
import datetime as dt

import pytest

from services.archive import times

T = dt.datetime(2026, 11, 27, 17, 5, 12, 500000)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T17:05:12.5",
        "2026-11-27T17:05:12.5Z",
        "2026-11-27T17:05:12.500000+00:00",
        "2026-11-27T18:05:12.5+01:00",
        "2026-11-27 17:05:12.5",
        " 2026-11-27T17:05:12.5Z ",
    ],
)
def test_lenient_takes_any_iso_form_as_naive_utc(text):
    assert times.parse(text) == T
    assert times.argument(text) == T


@pytest.mark.parametrize(
    "text", ["2026-11-27T17:05:12.5", "2026-11-27T17:05:12.5Z", "2026-11-27T17:05:12.500000"]
)
def test_strict_takes_the_http_form(text):
    assert times.parse_strict(text) == T


@pytest.mark.parametrize(
    ("parse", "text", "form"),
    [
        (times.parse, "yesterday", "give ISO 8601 such as 2026-11-27T17:05:12.5Z"),
        (times.parse, "", "give ISO 8601"),
        (times.parse, "2026-02-30T17:00", "give ISO 8601"),
        (times.parse_strict, "yesterday", "give UTC as YYYY-MM-DDTHH:MM:SS[.ffffff][Z]"),
        (times.parse_strict, "2026-11-27T17:05", "give UTC as"),
        (times.parse_strict, "2026-11-27T18:05:12+01:00", "give UTC as"),
        (times.parse_strict, "2026-11-27 17:05:12", "give UTC as"),
        (times.parse_strict, "２０２６-11-27T17:05:12", "give UTC as"),
    ],
)
def test_a_bad_time_has_one_wording(parse, text, form):
    with pytest.raises(times.BadTime) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r} is not a time")
    assert form in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


def test_strict_says_why_a_well_formed_time_is_impossible():
    with pytest.raises(times.BadTime, match=r"is not a time \(day is out of range for month\)"):
        times.parse_strict("2026-02-30T17:05:12")


def test_argument_type_reports_the_same_wording_to_argparse():
    with pytest.raises(argparse.ArgumentTypeError, match="'soon' is not a time: give ISO 8601"):
        times.argument("soon")


def test_naive_utc_and_now():
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert times.naive_utc(dt.datetime(2026, 11, 27, 18, 5, 12, 500000, plus_one)) == T
    assert times.naive_utc(T) is T
    now = times.utc_now()
    assert now.tzinfo is None
    assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - now) < dt.timedelta(minutes=1)


def test_help_shows_an_example_and_the_zone_rule():
    assert times.EXAMPLE in times.HELP
    assert times.parse(times.EXAMPLE) == T
    assert "zone" in times.HELP
