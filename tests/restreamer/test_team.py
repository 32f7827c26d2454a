"""``/api/team`` and ``/team/NODE/CH.svg``: the nodes of the nodes table, asked over HTTP."""

import datetime as dt

import requests

from services.archive.times import utc_now
from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401 - the nodes table
from tests.media import store_segment


def archive(base, end: dt.datetime, segments: int = 5) -> None:
    """``segments`` 2-second segments of chan/source ending at ``end``."""
    for i in range(segments):
        start = end - dt.timedelta(seconds=2 * (segments - i))
        store_segment(base, "chan", "source", start, 2, b"G" + bytes(187))


def test_without_a_database_the_team_is_this_node(tmp_path, make_server):
    end = utc_now().replace(microsecond=0) - dt.timedelta(seconds=30)
    archive(tmp_path, end)
    server = make_server(tmp_path)
    team = requests.get(f"{server.url}/api/team", timeout=30).json()
    assert team["channels"] == ["chan"]
    (node,) = team["nodes"]
    assert node["name"] == "this node"
    assert node["reachable"]
    assert node["channels"] == {"chan": {"source": {"newest": end.isoformat() + "Z"}}}
    assert node["backfill"] == []  # a restreamer alone runs no backfiller
    svg = requests.get(f"{server.url}/team/this%20node/chan.svg", timeout=30)
    assert svg.status_code == 200
    assert svg.headers["Content-Type"].startswith("image/svg+xml")
    assert "Content-Security-Policy" in svg.headers
    assert svg.text.startswith("<svg") or svg.text.startswith("<?xml")
    # The Host header is the client's: never an address this server fetches from.
    forged = requests.get(f"{server.url}/team/this%20node/chan.svg",
                          headers={"Host": "127.0.0.1:9"}, timeout=30)  # fmt: skip
    assert forged.status_code == 200
    assert forged.content == svg.content
    page = requests.get(f"{server.url}/team", timeout=30)
    assert page.status_code == 200
    assert '<script type="module" src="/static/team/team.js">' in page.text


def test_each_node_of_the_table_is_asked(tmp_path, make_server, db, pg_dsn):  # noqa: F811
    end = utc_now().replace(microsecond=0) - dt.timedelta(seconds=10)
    archive(tmp_path / "a", end)
    archive(tmp_path / "b", end - dt.timedelta(seconds=20), segments=3)
    a = make_server(tmp_path / "a", "--db", pg_dsn)
    b = make_server(tmp_path / "b", "--db", pg_dsn)
    db.query("INSERT INTO nodes (name, url) VALUES ('a', %s), ('b', %s), ('gone', %s)",
             (a.url, b.url + "/", "http://127.0.0.1:9"))  # fmt: skip
    db.query("INSERT INTO locations (node, name, backend) VALUES ('a', 'clips', 'local'),"
             " ('a', 'yt', 'youtube'), ('gone', 'old', 'local')")  # fmt: skip
    db.query("UPDATE locations SET heartbeat = heartbeat - interval '1 hour' WHERE node = 'gone'")
    team = requests.get(f"{b.url}/api/team", timeout=60).json()
    nodes = {n["name"]: n for n in team["nodes"]}
    assert list(nodes) == ["a", "b", "gone"]
    # what each node's cutter serves now (a heartbeat an hour old is no cutter)
    assert [nodes[n]["locations"] for n in nodes] == [["clips (local)", "yt (youtube)"], [], []]
    assert nodes["a"]["channels"]["chan"]["source"]["newest"] == end.isoformat() + "Z"
    newest_b = (end - dt.timedelta(seconds=20)).isoformat() + "Z"
    assert nodes["b"]["channels"]["chan"]["source"]["newest"] == newest_b
    assert not nodes["gone"]["reachable"]
    assert "ConnectionError" in nodes["gone"]["error"]
    # Each node's map, fetched by the node the page is on (its images are same-origin only).
    svg = requests.get(f"{b.url}/team/a/chan.svg", timeout=30)
    assert svg.status_code == 200
    assert (
        svg.content
        == requests.get(f"{a.url}/coverage/chan.svg", params=team["hours"], timeout=30).content
    )
    down = requests.get(f"{b.url}/team/gone/chan.svg", timeout=30)
    assert down.status_code == 502
    assert "did not answer" in down.text
    unknown = requests.get(f"{b.url}/team/nobody/chan.svg", timeout=30)
    assert unknown.status_code == 404
    assert "no node 'nobody' in the nodes table" in unknown.text
    bad = requests.get(f"{b.url}/team/a/.hidden.svg", timeout=30)
    assert bad.status_code == 400


def test_a_database_down_is_a_503_saying_so(tmp_path, make_server):
    server = make_server(tmp_path, "--db", "host=127.0.0.1 port=9 dbname=none connect_timeout=1")
    for path in ("/api/team", "/team/a/chan.svg"):
        answer = requests.get(f"{server.url}{path}", timeout=60)
        assert answer.status_code == 503, path
        assert "the nodes table cannot be read" in answer.text
    assert requests.get(f"{server.url}/team", timeout=30).status_code == 200  # the page itself
