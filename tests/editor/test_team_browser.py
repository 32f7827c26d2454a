"""The ``/team`` page of two real nodes sharing a database, in headless Chromium.

Both nodes record one local live origin and backfill from each other; the page on
the first shows both, each with its newest video per quality, its coverage map
and its backfiller's peers, and follows them as they record.
"""

import pytest
import requests

from tests.downloader.origin import Origin
from tests.node.test_node_end_to_end import free_port, start_node, stop
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

READ_CARDS = """
return [...document.querySelectorAll("section.node")].map((card) => ({
  name: card.dataset.node,
  down: card.classList.contains("down"),
  newest: [...card.querySelectorAll("table.newest-video tr[data-quality]")].map(
    (row) => [row.dataset.quality, row.querySelector(".newest").textContent]),
  peers: [...card.querySelectorAll("table.backfill tr[data-peer]")].map((row) => row.dataset.peer),
  maps: [...card.querySelectorAll("img.coverage")].map(
    (img) => img.complete && img.naturalWidth > 0),
}));
"""


def test_the_team_page_shows_both_nodes_and_follows_them(tmp_path, pg_dsn, stream, chromium):
    origin = Origin({"source": stream}).start()
    port_a, port_b = free_port(), free_port()
    a = start_node("A", tmp_path / "a", pg_dsn, origin.master_url, port_a)
    b = start_node("B", tmp_path / "b", pg_dsn, origin.master_url, port_b)
    try:
        url = f"http://127.0.0.1:{port_a}"

        def team_up():
            try:
                nodes = requests.get(f"{url}/api/team", timeout=10).json()["nodes"]
            except (requests.RequestException, ValueError):
                return False
            return len(nodes) == 2 and all(n["reachable"] and n["backfill"] for n in nodes)

        wait_until(team_up, "both nodes answering, each with its backfiller", 90, 0.5)
        chromium.get(f"{url}/team")

        def ready():
            cards = chromium.execute_script(READ_CARDS)
            if len(cards) != 2 or not all(c["newest"] and all(c["maps"]) and c["maps"]
                                          for c in cards):  # fmt: skip
                return None
            return cards

        cards = wait_until(ready, "both nodes' cards with their newest video and maps", 60, 0.5)
        by_name = {c["name"]: c for c in cards}
        assert set(by_name) == {"A", "B"}
        for name, other in (("A", "B"), ("B", "A")):
            card = by_name[name]
            assert not card["down"]
            assert [q for q, _ in card["newest"]] == ["source"]
            assert "Z (" in card["newest"][0][1]  # a time and how long ago
            assert card["peers"] == [other]  # each backfills from the other
        # Live: the newest video moves on without reloading the page.
        first = by_name["A"]["newest"][0][1]
        wait_until(lambda: {c["name"]: c for c in chromium.execute_script(READ_CARDS)}["A"]
                   ["newest"][0][1].split(" ")[0] != first.split(" ")[0],
                   "A's newest video to move on", 60, 0.5)  # fmt: skip
        errors = [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        codes = [stop(a), stop(b)]
        origin.stop()
    assert codes == [0, 0], (tmp_path / "A.log").read_text()[-3000:]
