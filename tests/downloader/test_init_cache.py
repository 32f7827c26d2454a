"""The EXT-X-MAP init section cache: bounded in size and in count, against a real HTTP server."""

import pytest
import requests

from services.downloader.getter import MAX_INIT_BYTES, MAX_INITS, InitCache, _TooLarge
from tests.httpfake import FakeHandler, serve, stop


class _Inits(FakeHandler):
    def do_GET(self):
        body = b"I" * (MAX_INIT_BYTES + 1) if self.path == "/big.mp4" else self.path.encode()
        self.send(200, body)


@pytest.fixture
def origin():
    server = serve(_Inits)
    yield f"http://127.0.0.1:{server.server_port}"
    stop(server)


def test_an_init_section_over_the_limit_is_refused(origin):
    cache = InitCache(requests.Session())
    with pytest.raises(_TooLarge, match=f"is over {MAX_INIT_BYTES} bytes"):
        cache.get(f"{origin}/big.mp4", 10)
    assert cache.results == {}  # the next getter tries again rather than keep a failure


def test_the_cache_keeps_the_most_recent_init_sections_only(origin):
    cache = InitCache(requests.Session())
    uris = [f"{origin}/{i}.mp4" for i in range(MAX_INITS * 3)]
    for uri in uris:
        assert cache.get(uri, 10) == uri[len(origin) :].encode()
    assert len(cache.results) <= MAX_INITS + 1
    assert uris[-1] in cache.results
    assert uris[0] not in cache.results
