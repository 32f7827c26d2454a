"""The EXT-X-MAP init section cache: bounded in size and in count, against a real HTTP server."""

import http.server
import threading

import pytest
import requests

from services.downloader.getter import MAX_INIT_BYTES, MAX_INITS, InitCache, _TooLarge


class _Inits(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"I" * (MAX_INIT_BYTES + 1) if self.path == "/big.mp4" else self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def origin():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Inits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


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
