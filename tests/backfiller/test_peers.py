"""Peers from the command line and from a node file, and never ourselves."""

import pytest

from services.backfiller.peers import Peer, exclude_self, parse_node, read_node_file
from services.backfiller.worker import is_trusted


def test_node_urls_are_named_by_host_and_port_or_given_a_name():
    assert parse_node("http://node2:8000/") == Peer("node2:8000", "http://node2:8000")
    assert parse_node("b=http://10.0.0.2:8000") == Peer("b", "http://10.0.0.2:8000")
    assert parse_node("http://n/?x=1") == Peer("n", "http://n/?x=1")


@pytest.mark.parametrize("text", ["node2:8000", "ftp://node2", "b=", "http://"])
def test_a_node_that_is_not_an_http_url_is_refused(text):
    with pytest.raises(ValueError, match=r"is not an http\(s\) URL: give the peer's restreamer"):
        parse_node(text)


def test_route_quotes_nothing_a_segment_name_needs():
    peer = Peer("p", "http://h:1/prefix")
    name = "05:12.345-2.002-full-47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU.ts"
    assert peer.route("segments", "ch", "q", "2026-11-27T17", name) == (
        f"http://h:1/prefix/segments/ch/q/2026-11-27T17/{name}"
    )


def test_node_file_lines_comments_and_errors(tmp_path):
    path = tmp_path / "nodes"
    path.write_text("# peers\nalpha http://a:8000  # the first\n\n beta  http://b:8000/\n")
    assert read_node_file(str(path)) == [
        Peer("alpha", "http://a:8000"),
        Peer("beta", "http://b:8000"),
    ]
    path.write_text("alpha http://a:8000\ngamma\n")
    with pytest.raises(ValueError, match=r"nodes:2: 'gamma' is not 'NAME URL'"):
        read_node_file(str(path))
    path.write_text("alpha http://a:8000\nalpha http://other:8000\n")
    with pytest.raises(ValueError, match=r"peer 'alpha' is given twice"):
        read_node_file(str(path))
    path.write_text("alpha a:8000\n")
    with pytest.raises(ValueError, match=r"nodes:1: 'a:8000' is not an http\(s\) URL"):
        read_node_file(str(path))


def test_this_node_is_left_out_by_name_host_port_or_host():
    peers = [Peer("alpha", "http://a:8000"), Peer("beta", "http://b:8000")]
    assert exclude_self(peers, "alpha") == [peers[1]]
    assert exclude_self(peers, "b:8000") == [peers[0]]
    assert exclude_self(peers, "a") == [peers[1]]
    assert exclude_self(peers, "gamma") == peers


def test_a_peer_is_trusted_with_tombstones_by_name_or_url_only_when_named():
    peer = Peer("node2", "http://node2:8000")
    assert not is_trusted(peer, frozenset())
    assert is_trusted(peer, frozenset({"node2"}))
    assert is_trusted(peer, frozenset({"http://node2:8000"}))
    assert not is_trusted(peer, frozenset({"node3", "http://node2:9000", "node2:8000"}))
