"""Where peers come from: ``--node`` URLs, a node file, or the ``nodes`` table.

A peer is a name and the root URL of its restreamer (docs/DESIGN.md#http-api). The file and
the table are read again every refresh, so peers can be added and removed while
the backfiller runs. A node never backfills from itself: peers named like
``--localhost`` are dropped.
"""

import dataclasses
import logging
import urllib.parse

logger = logging.getLogger(__name__)

__all__ = ["Peer", "exclude_self", "nodes_from_db", "parse_node", "read_node_file"]


@dataclasses.dataclass(frozen=True)
class Peer:
    """One node to backfill from: its name (for logs and metrics) and restreamer root URL."""

    name: str
    url: str

    def route(self, *parts: str) -> str:
        """The URL of a route under this peer's root, e.g. ``route("files", "ch")``."""
        return "/".join([self.url, *(urllib.parse.quote(p, safe=":") for p in parts)])


def _check_url(url: str, where: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(
            f"{where}: {url!r} is not an http(s) URL: give the peer's restreamer root, "
            "e.g. http://node2:8000"
        )
    # Routes are appended to the root, so a trailing slash would double up.
    return url.rstrip("/")


def parse_node(text: str) -> Peer:
    """A ``--node`` value: ``URL`` (named by its host:port) or ``NAME=URL``.

    Raises ValueError naming the value if the URL is not http(s) or the name is empty.
    """
    name, sep, url = text.partition("=")
    if not sep or "://" in name:  # an '=' inside a URL's query is not a name
        name, url = "", text
    url = _check_url(url.strip(), f"--node {text!r}")
    name = name.strip() or urllib.parse.urlsplit(url).netloc
    return Peer(name, url)


def read_node_file(path: str) -> list[Peer]:
    """Peers from a file of ``NAME URL`` lines; ``#`` starts a comment, blank lines are skipped.

    Raises OSError if the file cannot be read, ValueError naming the file, line
    and text of the first bad line.
    """
    peers = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            where = f"{path}:{number}"
            if len(fields) != 2:
                raise ValueError(
                    f"{where}: {line.strip()!r} is not 'NAME URL' (two fields, '#' for comments)"
                )
            peers.append(Peer(fields[0], _check_url(fields[1], where)))
    return _unique(peers, path)


def nodes_from_db(database) -> list[Peer]:
    """Peers from the ``nodes`` table (docs/DESIGN.md#schema): the rows with ``backfill_from`` set.

    Raises the database layer's errors; a row with a bad URL is logged and skipped,
    so one operator typo does not stop backfilling from every other node.
    """
    rows = database.query(
        "SELECT name, url FROM nodes WHERE backfill_from ORDER BY name", idempotent=True
    )
    peers = []
    for row in rows:
        try:
            peers.append(Peer(row.name, _check_url(row.url, f"nodes row {row.name!r}")))
        except ValueError as e:
            logger.error("skipping peer: %s", e)
    return peers


def _unique(peers: list[Peer], where: str) -> list[Peer]:
    seen: dict[str, Peer] = {}
    for peer in peers:
        if peer.name in seen and seen[peer.name] != peer:
            raise ValueError(
                f"{where}: peer {peer.name!r} is given twice, as {seen[peer.name].url!r} "
                f"and {peer.url!r}: give each node one name"
            )
        seen[peer.name] = peer
    return list(seen.values())


def exclude_self(peers: list[Peer], localhost: str) -> list[Peer]:
    """The peers other than this node: a name, host:port or host equal to ``localhost`` is us."""
    others = []
    for peer in _unique(peers, "peers"):
        netloc = urllib.parse.urlsplit(peer.url)
        if localhost in (peer.name, netloc.netloc, netloc.hostname):
            logger.debug("not backfilling from %r: it is this node (%r)", peer.name, localhost)
            continue
        others.append(peer)
    return others
