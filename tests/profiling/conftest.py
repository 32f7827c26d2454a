"""Fixtures for the profiling tests: fresh registries, a real HTTP server, a clean SIGVTALRM."""

import signal

import prometheus_client
import pytest

from profiling import sampler as sampler_module
from tests.httpfake import FakeHandler, serve, stop


@pytest.fixture
def registry():
    """A registry of the test's own, so metrics never leak between tests."""
    return prometheus_client.CollectorRegistry()


@pytest.fixture
def no_sampler_left_running():
    """Fails a test that leaves a sampler running; stops it so later tests still work."""
    yield
    leftover = sampler_module._running_sampler
    if leftover is not None:
        leftover.stop()
    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    assert leftover is None, f"{leftover!r} was left running"
    assert signal.getsignal(signal.SIGVTALRM) == signal.SIG_DFL


class _Handler(FakeHandler):
    protocol_version = "HTTP/1.0"  # one request a connection, as before

    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404, "no such page")
            return
        status, content_type, body = route(self.path)
        self.send(status, body, content_type)


class LocalServer:
    """An HTTP server on 127.0.0.1 (port 0) answering routes the test sets."""

    def __init__(self):
        self.httpd = serve(_Handler)
        self.httpd.routes = {}
        self.httpd.requests = []

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def route(self, path: str, body, content_type="text/plain; version=0.0.4", status=200):
        """Serve ``body`` (bytes, str, or a function of the request path giving either)."""

        def answer(request_path):
            data = body(request_path) if callable(body) else body
            return status, content_type, data.encode() if isinstance(data, str) else data

        self.httpd.routes[path] = answer
        return self.url(path)

    def close(self):
        stop(self.httpd)


@pytest.fixture
def http_server():
    server = LocalServer()
    yield server
    server.close()
