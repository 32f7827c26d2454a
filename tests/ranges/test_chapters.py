"""Chapter markers: stream times to the clip's own time, the lines, YouTube's rules."""

import datetime as dt

import pytest

from services.ranges import Transition
from services.ranges.chapters import (
    Chapter,
    check_chapters,
    clip_duration,
    clip_offset,
    format_time,
    parse_lines,
    split_description,
    with_chapters,
)

T0 = dt.datetime(2026, 11, 27, 17)


def at(seconds):
    return T0 + dt.timedelta(seconds=seconds)


# Two ranges, 18 s and 16 s, joined by a 1 s crossfade: the clip is 33 s long.
RANGES = [(at(2), at(20)), (at(24), at(40))]
CROSSFADE = [Transition("crossfade", 1)]


@pytest.mark.parametrize(
    ("when", "transitions", "seconds"),
    [
        pytest.param(2, None, 0.0, id="start of the first range"),
        pytest.param(19.5, None, 17.5, id="inside the first range"),
        pytest.param(24, None, 18.0, id="a hard cut: the second range starts where the first ends"),
        pytest.param(24, CROSSFADE, 17.0, id="a crossfade takes its seconds off"),
        pytest.param(28.5, CROSSFADE, 21.5, id="inside the second range"),
    ],
)
def test_clip_offset(when, transitions, seconds):
    assert clip_offset(RANGES, transitions, at(when)) == seconds


@pytest.mark.parametrize("when", [0, 20, 22, 40, 41], ids=lambda s: f"T0+{s}")
def test_a_time_outside_the_ranges_is_refused(when):
    with pytest.raises(ValueError, match="is in none of the clip's ranges"):
        clip_offset(RANGES, None, at(when))


def test_clip_duration():
    assert clip_duration(RANGES) == 34.0
    assert clip_duration(RANGES, CROSSFADE) == 33.0
    assert clip_duration(RANGES, [None]) == 34.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (9, "0:09"), (75, "1:15"), (3599, "59:59"), (3600, "1:00:00"), (3725, "1:02:05")],
)
def test_format_time(seconds, text):
    assert format_time(seconds) == text
    assert parse_lines(f"{text} - x") == [Chapter(seconds, "x")]


def test_chapters_are_written_below_the_delimiter_in_clip_time():
    chapters = [(at(28.5), "End - the last"), (at(2), "Intro"), (at(12), "Middle")]
    text = with_chapters("What happened.", chapters, RANGES, CROSSFADE)
    assert text == "What happened.\n==========\n0:00 - Intro\n0:10 - Middle\n0:21 - End - the last"
    assert split_description(text) == (
        "What happened.",
        "0:00 - Intro\n0:10 - Middle\n0:21 - End - the last",
    )
    assert check_chapters(text, clip_duration(RANGES, CROSSFADE)) == [
        Chapter(0, "Intro"),
        Chapter(10, "Middle"),
        Chapter(21, "End - the last"),
    ]
    assert with_chapters("Text", [], RANGES) == "Text"
    assert split_description("Text") == ("Text", None)


@pytest.mark.parametrize(
    ("description", "chapters", "message"),
    [
        pytest.param("x", [(at(2), " ")], "must be one line of text", id="empty title"),
        pytest.param("x", [(at(2), "a\nb")], "must be one line of text", id="two lines"),
        pytest.param(
            "x", [(at(2), "a"), (at(2.5), "b")], "are both at 0:00 of the clip", id="same second"
        ),
        pytest.param("x\n==========\n", [(at(2), "a")], "the description holds", id="delimiter"),
        pytest.param("x", [(at(21), "a")], "in none of the clip's ranges", id="between ranges"),
    ],
)
def test_bad_chapters_are_refused(description, chapters, message):
    with pytest.raises(ValueError, match=message):
        with_chapters(description, chapters, RANGES)


@pytest.mark.parametrize(
    ("lines", "duration", "message"),
    [
        pytest.param("0:01 - a\n0:11 - b\n0:21 - c", 40, "YouTube needs the first at 0:00", id="0"),
        pytest.param("0:00 - a\n0:10 - b", 40, "2 chapter\\(s\\): YouTube shows", id="two"),
        pytest.param("0:00 - a\n0:09 - b\n0:20 - c", 40, "'a' at 0:00 lasts 9 s", id="short"),
        pytest.param("0:00 - a\n0:10 - b\n0:20 - c", 29.5, "'c' at 0:20 lasts 9.5 s", id="last"),
        pytest.param("0:00 - a\n0:20 - b\n0:10 - c", 40, "'b' at 0:20 lasts 0 s", id="order"),
        pytest.param("0:00 - a\nhello\n0:20 - c", 40, "'hello' is not 'M:SS - Title'", id="line"),
        pytest.param("0:00 - a\n0:75 - b\n1:20 - c", 90, "not M:SS or H:MM:SS", id="seconds"),
    ],
)
def test_youtube_rules(lines, duration, message):
    with pytest.raises(ValueError, match=message):
        check_chapters("text\n==========\n" + lines, duration)


def test_a_description_without_chapters_has_none():
    assert check_chapters("no chapters here", 5) == []
