"""A peer's declared and streamed sizes against the caps, with a real HTTP server on 127.0.0.1.

Each attack is refused before the body is allocated (a declared length) or cut off
at the cap (a chunked body), and leaves no temp file.
"""

import datetime as dt
import os

import pytest

from fastseg import parse_segment_path, segment_name
from services.backfiller.client import PeerClient
from services.backfiller.fetch import BadAnswer, Fetcher, TooLarge
from services.backfiller.limits import MAX_LISTING_BYTES
from services.backfiller.listing import ListingTooLarge, get_listing
from tests.fastseg.trees import fake_id
from tests.httpfake import FakeHandler, serve, stop

MIB = 1024 * 1024


class Handler(FakeHandler):
    sent: dict[str, int] = {}

    def do_GET(self):
        try:
            self._answer()
        except OSError:  # the client hung up, as it should
            self.close_connection = True

    def _answer(self):
        if self.path in ("/huge", "/huge404"):
            self.send_response(404 if self.path == "/huge404" else 200)
            self.send_header("Content-Length", str(3_000_000_000))
            self.end_headers()
            self.wfile.write(b"[" + b" " * 65536)
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b'"aaaaaaaaaaaaaa",' * 4096
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        type(self).sent[self.path] = 0
        while True:
            self.wfile.write(chunk)
            type(self).sent[self.path] += len(piece)


@pytest.fixture
def client():
    httpd = serve(Handler)
    peer = PeerClient(f"http://127.0.0.1:{httpd.server_port}", 30)
    yield peer
    peer.close()
    stop(httpd)


def segment(tmp_path):
    name = segment_name(dt.datetime(2026, 11, 20, 9), dt.timedelta(seconds=2), "full", fake_id(1))
    return parse_segment_path(str(tmp_path / "ch" / "q" / "2026-11-20T09" / name))


def test_a_listing_declared_too_long_is_refused_before_it_is_read(client):
    with pytest.raises(ListingTooLarge, match="declares a listing of 3000000000 bytes"):
        get_listing(client, "/huge", "http://peer/huge")


def test_an_endless_listing_is_cut_off_at_the_cap(client):
    with pytest.raises(ListingTooLarge, match="more than 4194304 bytes"):
        get_listing(client, "/endless", "http://peer/endless")
    assert Handler.sent["/endless"] < MAX_LISTING_BYTES + 8 * MIB  # what was in flight


def test_a_segment_declared_too_long_is_refused_before_it_is_read(client, tmp_path):
    info = segment(tmp_path)
    with pytest.raises(TooLarge, match="declares 3000000000 bytes: more than --max-segment-mb 64"):
        Fetcher().segment(client, "/huge", info, "http://peer/huge")
    assert not os.path.exists(tmp_path / "ch")  # not even its hour directory


def test_an_endless_segment_is_cut_off_at_the_cap_and_its_temp_removed(client, tmp_path):
    info = segment(tmp_path)
    with pytest.raises(TooLarge, match="sent more than that: more than --max-segment-mb 2"):
        Fetcher().segment(client, "/endless-segment", info, "http://peer/x", max_size=2 * MIB)
    assert os.listdir(info.hour_path) == []  # the temp file is gone
    assert Handler.sent["/endless-segment"] < 2 * MIB + 8 * MIB


def test_an_error_answer_declared_huge_is_not_read(client, tmp_path):
    with pytest.raises(BadAnswer, match="answered 404"):
        Fetcher().segment(client, "/huge404", segment(tmp_path), "http://peer/huge404")
