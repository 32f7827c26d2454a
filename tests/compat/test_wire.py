"""What a wubloader node relies on from a fastseg restreamer, over real HTTP.

Listings of names that do not exist are ``[]`` (wubloader's backfiller lists
every quality it records on every node); ``?tombstones=true`` lists tombstones
and never the segments they hide; a missing or tombstoned segment is a 404 and a
malformed name a 400; a rough cut is the chosen segment files concatenated.
"""

import datetime as dt
import os
from pathlib import Path

import m3u8
import pytest
import requests

from tests.backfiller.conftest import stream  # noqa: F401
from tests.backfiller.trees import CHANNEL, START, tree
from tests.servers import ServerProcess

HASH = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
HOUR = "2026-11-20T10"


@pytest.fixture(scope="module")
def node(stream, tmp_path_factory):  # noqa: F811 - the session fixture, imported
    """A restreamer over one quality with a hole, a tombstoned segment and a decoy tombstone."""
    base = tree(stream, tmp_path_factory.mktemp("compat") / "base", {"source": {7}})
    hour_dir = base / CHANNEL / "source" / HOUR
    names = sorted(os.listdir(hour_dir))  # segments 4-9 less 7: 5 in hour 10
    hidden, decoy = names[1], names[2]
    (hour_dir / f"{hidden[:-3]}.tombstone").touch()
    (hour_dir / f"{decoy}.tombstone").touch()  # STEM.ts.tombstone: hides nothing
    server = ServerProcess(base)
    try:
        yield server, base, hour_dir, hidden, decoy
    finally:
        server.stop()


def get(server, path: str, **params) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=60)


@pytest.mark.parametrize(
    "path",
    [
        "/files/nochannel",
        f"/files/{CHANNEL}/noquality",
        f"/files/{CHANNEL}/source/2026-11-20T11",
        "/files/nochannel/noquality/2026-11-20T11",
    ],
)
def test_listing_a_missing_name_is_an_empty_list(node, path):
    server = node[0]
    for params in ({}, {"tombstones": "true"}):
        response = get(server, path, **params)
        assert response.status_code == 200, response.text
        assert response.json() == []


def test_hour_listings_follow_the_tombstone_rule(node):
    server, _, hour_dir, hidden, decoy = node
    plain = get(server, f"/files/{CHANNEL}/source/{HOUR}").json()
    assert hidden not in plain
    assert decoy in plain
    assert len(plain) == 4
    with_tombstones = get(server, f"/files/{CHANNEL}/source/{HOUR}", tombstones="true").json()
    assert with_tombstones == sorted([*plain, f"{hidden[:-3]}.tombstone", f"{decoy}.tombstone"])
    assert (hour_dir / hidden).exists()  # hidden, never deleted


def test_a_tombstoned_segment_is_gone_from_segments_playlists_and_cuts(node):
    server, _, hour_dir, hidden, decoy = node
    assert get(server, f"/segments/{CHANNEL}/source/{HOUR}/{hidden}").status_code == 404
    assert get(server, f"/segments/{CHANNEL}/source/{HOUR}/{decoy}").status_code == 200
    start, end = START.isoformat(), (START + dt.timedelta(seconds=20)).isoformat()
    playlist = m3u8.loads(get(server, f"/playlist/{CHANNEL}/source.m3u8", start=start,
                              end=end).text)  # fmt: skip
    uris = [s.uri for s in playlist.segments]
    assert not [u for u in uris if hidden in u]
    assert [u for u in uris if decoy in u]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/segments/{CHANNEL}/source/{HOUR}/59:58-2-full-{HASH}.ts", 404),
        (f"/segments/{CHANNEL}/source/2026-11-20T11/00:00-2-full-{HASH}.ts", 404),
        (f"/segments/{CHANNEL}/nope/{HOUR}/00:00-2-full-{HASH}.ts", 404),
        (f"/segments/nope/source/{HOUR}/00:00-2-full-{HASH}.ts", 404),
        (f"/segments/{CHANNEL}/source/{HOUR}/00:00-2-temp-abc.ts", 404),
        (f"/segments/{CHANNEL}/source/{HOUR}/00:00-2-full-{HASH}.tombstone", 400),
        (f"/segments/{CHANNEL}/source/{HOUR}/00:00-2-full-x.ts", 400),
        (f"/segments/{CHANNEL}/source/10/00:00-2-full-{HASH}.ts", 400),
        (f"/segments/{CHANNEL}/.source/{HOUR}/00:00-2-full-{HASH}.ts", 400),
        (f"/files/{CHANNEL}/source/2026-11-20", 400),
        (f"/files/{CHANNEL}/.source", 400),
        ("/files/.hidden", 400),
        (f"/playlist/{CHANNEL}/nope.m3u8", 404),
        ("/playlist/nope.m3u8", 404),
        (f"/playlist/{CHANNEL}/.source.m3u8", 400),
        (f"/cut/{CHANNEL}/nope.ts?start=2026-11-20T10:00:00&end=2026-11-20T10:00:05", 404),
        (f"/cut/{CHANNEL}/source.ts?start=2026-11-21T10:00:00&end=2026-11-21T10:00:05", 404),
        (f"/cut/{CHANNEL}/source.ts?start=yesterday&end=2026-11-20T10:00:05", 400),
    ],
)
def test_status_of_missing_and_malformed_names(node, path, status):
    response = requests.get(node[0].url + path, timeout=60)
    assert response.status_code == status, response.text
    assert response.text.count("\n") == 1, response.text  # a one-line reason


def test_rough_cut_is_cat_of_the_chosen_segments(node):
    server, base, hour_dir, hidden, decoy = node
    start = START + dt.timedelta(seconds=3)  # inside segment 1
    end = START + dt.timedelta(seconds=19)  # inside segment 9: across the hole and the tombstone
    response = get(server, f"/cut/{CHANNEL}/source.ts", start=start.isoformat(),
                   end=end.isoformat(), allow_holes="true")  # fmt: skip
    assert response.status_code == 200, response.text
    quality = base / CHANNEL / "source"
    chosen = sorted(p for p in quality.glob("*/*.ts") if p.name != hidden)[1:]  # from segment 1
    assert response.content == b"".join(Path(p).read_bytes() for p in chosen)
