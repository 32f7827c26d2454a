"""``fastseg events edit --range ... --transition ...``: a clip of several ranges."""

import json

import pytest

from tests.events.test_cli import EDIT, events

RANGES = [
    "--range", "2026-11-27T17:00:00", "2026-11-27T17:00:10",
    "--range", "2026-11-27T17:00:20Z", "2026-11-27T17:00:30",
    "--range", "2026-11-27T17:00:40", "2026-11-27T17:00:45",
]  # fmt: skip


def test_edit_with_ranges_and_transitions(db, pg_dsn, base):
    event = events("add", "--sheet-name", "s", db=pg_dsn).stdout.strip()
    events(
        "edit", event, *EDIT[4:], *RANGES, "--transition", "none",
        "--transition", "crossfade:1.5", "--allow-holes", db=pg_dsn, base=base,
    )  # fmt: skip
    shown = json.loads(events("show", event, "--json", db=pg_dsn).stdout)
    assert shown["video_ranges"] == [
        ["2026-11-27T17:00:00", "2026-11-27T17:00:10"],
        ["2026-11-27T17:00:20", "2026-11-27T17:00:30"],
        ["2026-11-27T17:00:40", "2026-11-27T17:00:45"],
    ]
    assert shown["video_transitions"] == [None, {"type": "crossfade", "seconds": 1.5}]
    assert (shown["video_start"], shown["video_end"]) == (
        "2026-11-27T17:00:00",
        "2026-11-27T17:00:45",
    )
    assert "video_ranges" in events("show", event, db=pg_dsn).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--video-start", "2026-11-27T17:00:00", *RANGES], "not both"),
        ([], "give --video-start and --video-end, or one --range"),
        ([*RANGES, "--transition", "fade:1"], "1 transitions for 3 ranges"),
        ([*RANGES, "--transition", "fade:1", "--transition", "fade"], "is not TYPE:SECONDS"),
        ([*RANGES, "--transition", "none", "--transition", "fade:9"], "longer than the shorter"),
        ([*RANGES, "--transition", "fade:inf"], "a fade of inf s is over the 60 s a transition"),
        ([*RANGES, "--transition", "fade:1e300"], "a fade of 1e+300 s is over the 60 s"),
        (
            [
                "--video-start",
                "2026-11-27T17:00:00",
                "--video-end",
                "2026-11-27T17:00:02",
                "--transition",
                "fade:1",
            ],
            "--transition joins ranges",
        ),  # fmt: skip
        (["--range", "2026-11-27T17:00:05", "2026-11-27T17:00:01"], "is not after start"),
    ],
)
def test_bad_ranges_change_nothing(db, pg_dsn, args, message):
    event = events("add", "--sheet-name", "s", db=pg_dsn).stdout.strip()
    bad = events("edit", event, *EDIT[4:], *args, db=pg_dsn, check=False)
    assert bad.returncode == 2, bad.stderr
    assert message in bad.stderr
    assert json.loads(events("show", event, "--json", db=pg_dsn).stdout)["state"] == "UNEDITED"
