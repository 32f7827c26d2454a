"""The events API takes clips of several ranges with transitions between them."""

import json

import pytest

from services.db import states

from .test_api import EDIT, new_event, table

RANGES = [
    ["2026-11-27T16:59:53", "2026-11-27T16:59:56.5"],
    ["2026-11-27T16:59:58Z", "2026-11-27T17:00:03"],
]


def test_edit_with_ranges_and_a_crossfade(module_api, module_db):
    event = new_event(module_db)
    body = {k: v for k, v in EDIT.items() if k not in ("video_start", "video_end")}
    body |= {"video_ranges": RANGES, "video_transitions": [{"type": "crossfade", "seconds": 1}]}
    response = module_api.post(f"/api/events/{event}/edit", body)
    assert response.status_code == 200, response.text
    row = response.json()
    assert row["video_ranges"] == [
        ["2026-11-27T16:59:53.000000Z", "2026-11-27T16:59:56.500000Z"],
        ["2026-11-27T16:59:58.000000Z", "2026-11-27T17:00:03.000000Z"],
    ]
    assert row["video_transitions"] == [{"type": "crossfade", "seconds": 1}]
    assert (row["video_start"], row["video_end"]) == (
        "2026-11-27T16:59:53.000000Z",
        "2026-11-27T17:00:03.000000Z",
    )
    assert states.get_event(module_db, event).video_transitions == row["video_transitions"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"video_ranges": [["2026-11-27T16:59:53"]]}, "is not a list of [start, end] pairs"),
        ({"video_ranges": [["2026-11-27T16:59:53", "x"]]}, "video_ranges"),
        (
            {"video_ranges": list(reversed(RANGES))},
            "begins before the previous one ends",
        ),
        ({"video_ranges": RANGES, "video_transitions": [None, None]}, "2 transitions"),
        (
            {"video_ranges": RANGES, "video_transitions": [{"type": "fade", "seconds": 4}]},
            "longer than the shorter range",
        ),
        (
            {"video_ranges": RANGES, "video_transitions": [{"type": "wipe", "seconds": 1}]},
            "transition type 'wipe' is not one of fade, crossfade",
        ),
        ({"video_ranges": RANGES, "video_transitions": "fade"}, "is not a list of joins"),
        *[
            (
                {"video_ranges": RANGES, "video_transitions": [{"type": "fade", "seconds": s}]},
                f"a fade of {shown} s is over the 60 s a transition may last: shorten it",
            )
            for s, shown in [(1e300, "1e+300"), (10**400, "1e20+")]
        ],
    ],
)
def test_bad_ranges_are_refused_and_write_nothing(module_api, module_db, changes, reason):
    event = new_event(module_db)
    before = table(module_db)
    response = module_api.post(f"/api/events/{event}/edit", {**EDIT, **changes})
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert table(module_db) == before


def test_an_infinite_transition_is_refused(module_api, module_db):
    """``1e400`` is a JSON number that Python reads as inf (no JSON library writes one)."""
    event = new_event(module_db)
    before = table(module_db)
    body = {**EDIT, "video_ranges": RANGES, "video_transitions": [{"type": "fade", "seconds": 2}]}
    text = json.dumps(body).replace('"seconds": 2}', '"seconds": 1e400}')
    response = module_api.post(f"/api/events/{event}/edit", data=text,
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400, response.text
    assert "a fade of inf s is over the 60 s a transition may last" in response.json()["error"]
    assert table(module_db) == before
