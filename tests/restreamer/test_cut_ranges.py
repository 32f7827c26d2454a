"""``/cut`` with repeated ``range=START,END`` and ``transition=TYPE,SECONDS``."""

import datetime as dt

import pytest
import requests

from tests.restreamer.conftest import EDITOR, REAL_START
from tests.restreamer.test_cuts import save, video_frames


def at(seconds):
    return (REAL_START + dt.timedelta(seconds=seconds)).isoformat()


def ranges_cut(server, ranges, transitions=(), **params):
    query = [("range", f"{at(a)},{at(b)}") for a, b in ranges]
    query += [("transition", t) for t in transitions]
    query += list(params.items())
    return requests.get(f"{server.url}/cut/test/source.ts", params=query, headers=EDITOR,
                        timeout=120)  # fmt: skip


@pytest.mark.parametrize("kind", ["fast", "full"])
def test_three_ranges_with_a_crossfade(real_server, real_stream, tmp_path, kind):
    params = {"type": kind}
    if kind == "full":
        params["encoding"] = "preset=ultrafast,crf=35"
    response = ranges_cut(
        real_server, [(1, 3), (5, 7), (9.5, 11.5)], ["", "crossfade,0.5"], **params
    )
    out = save(response, tmp_path)
    # 6 s of ranges, less the 0.5 s the crossfade overlaps
    assert video_frames(out) == round(5.5 * real_stream.rate)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ([("range", f"{at(1)}")], "is not START,END"),
        ([("range", f"{at(1)},{at(3)}"), ("start", at(1))], "not both"),
        ([("transition", "fade,1")], "transition joins ranges"),
        ([("range", f"{at(3)},{at(1)}")], "is not after start"),
        (
            [("range", f"{at(1)},{at(3)}"), ("range", f"{at(2)},{at(4)}")],
            "begins before the previous one ends",
        ),
        (
            [
                ("range", f"{at(1)},{at(3)}"),
                ("range", f"{at(5)},{at(7)}"),
                ("transition", "wipe,1"),
            ],
            "transition type 'wipe' is not one of fade, crossfade",
        ),  # fmt: skip
        *[
            (
                [
                    ("range", f"{at(1)},{at(3)}"),
                    ("range", f"{at(5)},{at(7)}"),
                    ("transition", f"fade,{seconds}"),
                ],
                reason,
            )  # fmt: skip
            for seconds, reason in [
                ("inf", "a fade of inf s is over the 60 s a transition may last: shorten it"),
                ("1e300", "a fade of 1e+300 s is over the 60 s a transition may last"),
                ("nan", "transition seconds nan is not a positive number"),
            ]
        ],
        (
            [("range", f"{at(1)},{at(3)}"), ("range", f"{at(5)},{at(7)}"), ("type", "rough")],
            "a rough cut takes one range",
        ),  # fmt: skip
    ],
)
def test_bad_ranges(real_server, query, reason):
    response = requests.get(f"{real_server.url}/cut/test/source.ts", params=query, timeout=60)
    assert response.status_code == 400
    assert reason in response.text
    assert response.text.count("\n") == 1
