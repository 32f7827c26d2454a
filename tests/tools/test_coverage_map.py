"""The coverage computation (services.archive.coverage) and its SVG, on both fastseg twins."""

import datetime as dt
import os
import xml.etree.ElementTree as ET

import pytest

from services.archive import coverage
from services.archive.coverage_svg import render_svg
from tests.fastseg.trees import age, put, put_run

H17 = dt.datetime(2026, 11, 27, 17)
H18 = H17 + dt.timedelta(hours=1)
S = 1_000_000  # microseconds


@pytest.fixture(autouse=True)
def fresh_cache():
    coverage.clear_cache()
    yield
    coverage.clear_cache()


def cells(hours, first=H17, last=H18):
    return coverage.quality_cells(str(hours), "source", first, last)


def test_a_segment_across_the_hour_counts_in_both(impl, tmp_path):
    hours = tmp_path / "ch" / "source"
    put_run(hours, H18 - dt.timedelta(seconds=3), 3)  # 17:59:57 .. 18:00:03
    c17, c18 = cells(hours)
    assert c17.full == ((3597 * S, 3600 * S),)
    assert c18.full == ((0, 3 * S),)
    assert (c17.segments, c18.segments) == (2, 1)
    assert c18.holes == ((3 * S, 3600 * S),)
    assert c18.hole_seconds == 3597


def test_jitter_is_no_hole_and_partials_under_full_copies_are_not_partial(impl, tmp_path):
    hours = tmp_path / "ch" / "source"
    t = H17
    for i in range(10):  # 2 s segments, each 5 ms late or early
        put(hours, t + dt.timedelta(seconds=2 * i, milliseconds=5 * (-1) ** i))
    put(hours, t + dt.timedelta(seconds=4.005), type="partial", size=10)  # a worse copy
    put(hours, t + dt.timedelta(seconds=30), type="suspect")  # 30 .. 32: only suspect
    (c17,) = cells(hours, H17, H17)
    assert c17.full == ((5000, 19_995_000),)  # 5 ms at the start is within FUDGE: no hole
    assert c17.partial == ((30 * S, 32 * S),)
    assert c17.holes == ((19_995_000, 30 * S), (32 * S, 3600 * S))
    summary = coverage.summarise("source", [c17], 1)
    assert summary.first == H17 + dt.timedelta(milliseconds=5)
    assert summary.last == H17 + dt.timedelta(seconds=32)
    assert summary.holes == [(H17 + dt.timedelta(seconds=19.995), H17 + dt.timedelta(seconds=30))]
    assert (summary.segments, summary.complete) == (11, 10)


def test_a_changed_hour_is_read_again_an_unchanged_one_is_not(impl, tmp_path):
    hours = tmp_path / "ch" / "source"
    put_run(hours, H17, 5)
    hour_dir = hours / "2026-11-27T17"
    age(hour_dir)
    assert cells(hours, H17, H17)[0].full_seconds == 10
    # remove a file but put the old mtime back: the cached reduction is used
    st = os.stat(hour_dir)
    victim = sorted(hour_dir.iterdir())[-1]
    victim.unlink()
    os.utime(hour_dir, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cells(hours, H17, H17)[0].full_seconds == 10
    put(hours, H17 + dt.timedelta(seconds=100))  # a new mtime: read again
    assert cells(hours, H17, H17)[0].full_seconds == 10  # 4 old + 1 new, 2 s each


def test_svg_is_well_formed_with_a_day_per_line(impl, tmp_path):
    hours = tmp_path / "ch" / "source"
    put_run(hours, H17, 3)
    put_run(hours, H17 + dt.timedelta(days=2, hours=5), 2)
    first, last = H17, H17 + dt.timedelta(days=2, hours=5)
    by_quality = {"source": coverage.quality_cells(str(hours), "source", first, last)}
    svg = render_svg("ch", ["source"], by_quality)
    root = ET.fromstring(svg)
    groups = [g for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert len(groups) == 24 * 2 + 6  # 17:00 on day one to 05:00 on day three
    hours_drawn = [g.get("data-hour") for g in groups]
    assert hours_drawn[0] == "2026-11-27T17"
    assert hours_drawn[-1] == "2026-11-29T22"
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "2026-11-27 source" in labels
    assert "2026-11-29 source" in labels
    title = groups[0].find("{http://www.w3.org/2000/svg}title").text
    assert "6.0 s of 3,600 s complete" in title
    assert "2026-11-27T17:00:06Z for 59 min 54 s" in title
