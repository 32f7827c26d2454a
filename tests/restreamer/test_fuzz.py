"""Random paths and parameters at every route: never a 5xx, never a byte from outside BASE.

Path parts are drawn from names that exist, names that almost parse, and the
usual climbing tricks (``..``, encoded slashes, NUL, backslashes, long and odd
text), percent-encoded into the raw request line the way a hostile client would
send them. The same strategy runs against the Flask app and the real server.
"""

import datetime as dt
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.restreamer.trees import make_tree
from tests.servers import ServerProcess

T0 = dt.datetime(2026, 11, 27, 17, 59, 58)
SECRET = b"SECRET: bytes from outside the archive"
HASH = "47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU"
NAME = f"00:00-2-full-{HASH}.ts"


def make_archive(root):
    """BASE with two hours of video, and beside it a tree an escape could reach."""
    base = root / "base"
    make_tree(base, "ch", "q", T0, 3, size=100)
    outside = root / "outside" / "q" / "2026-11-27T18"
    outside.mkdir(parents=True)
    (outside / NAME).write_bytes(SECRET)
    (root / "secret.ts").write_bytes(SECRET)
    return base


PARTS = st.one_of(
    st.sampled_from(
        [
            "ch",
            "q",
            "2026-11-27T17",
            "2026-11-27T18",
            NAME,
            "outside",
            "secret.ts",
            "files",
            "..",
            ".",
            "",
            "...",
            "..\\..",
            "%2e%2e",
            "..%2F",
            "%2F",
            "%00",
            "a\0b",
            ".hidden",
            "2026-11-27T99",
            "2026-11-27T18:00",
            "00:00-2-full-x.ts",
            "59:59.9999999-1e3-full-.ts",
            NAME + ".tombstone",
            "x" * 300,
            "ch.m3u8",
            "q.m3u8",
            "q.ts",
            "\u202e",
            "\ud7ff",
            "%ZZ",
            "~",
            "*",
        ]
    ),  # fmt: skip
    st.text(min_size=0, max_size=20),
)
TIMES = st.one_of(
    st.none(),
    st.sampled_from(["2026-11-27T17:59:58", "2026-11-27T18:00:03.5Z", "2026-11-27T18:00:00",
                     "1999-01-01T00:00:00", "2026-13-01T00:00:00", "2126-11-27T18:00:00", "now",
                     "2026-11-27T18:00:00+01:00", "", "2026-11-27T18:00:00.0000001"]),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2300, 1, 1)).map(
        dt.datetime.isoformat
    ),
    st.text(max_size=30),
)  # fmt: skip
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "start": TIMES,
        "end": TIMES,
        "tombstones": st.sampled_from(["true", "false", "1", "maybe", ""]),
        "allow_holes": st.sampled_from(["true", "false", "x"]),
        "type": st.sampled_from(["rough", "fast", "full", "bogus"]),
    },
)
ROUTES = st.sampled_from(
    ["/files", "/files/{}", "/files/{}/{}", "/files/{}/{}/{}", "/segments/{}/{}/{}/{}",
     "/playlist/{}.m3u8", "/playlist/{}/{}.m3u8", "/cut/{}/{}.ts", "/metrics", "/{}", "/{}/{}"]
)  # fmt: skip


@st.composite
def requests_(draw):
    """A raw request target: a route with random parts, and random query parameters."""
    route = draw(ROUTES)
    parts = [draw(PARTS) for _ in range(route.count("{}"))]
    # Usually percent-encode each part (so '/' and '..' survive as data); sometimes
    # leave the climbing characters bare, as a request line may.
    raw = draw(st.booleans())
    safe = "/.%" if raw else ""
    path = route.format(*(quote(p, safe=safe, errors="surrogatepass") for p in parts))
    params = {k: v for k, v in draw(PARAMS).items() if v is not None}
    query = "&".join(f"{quote(k)}={quote(v, errors='surrogatepass')}" for k, v in params.items())
    return f"{path}?{query}" if query else path


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz_client(tmp_path, make_client):
    return make_client(make_archive(tmp_path))


@FUZZ
@given(target=requests_())
def test_fuzz_app(fuzz_client, target):
    # Werkzeug's test client reads a target starting with "//" as a host name and
    # fails before the app runs; test_fuzz_server sends those raw to the real server.
    assume(not target.startswith("//"))
    response = fuzz_client.get(target)
    body = response.get_data()
    response.close()
    event(f"status {response.status_code}")  # --hypothesis-show-statistics shows the spread
    assert response.status_code < 500, (target, body)
    assert SECRET not in body, target
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    server = ServerProcess(make_archive(tmp_path_factory.mktemp("fuzz")))
    yield server
    assert server.stop() == 0
    # Nothing a client sent made the server log an error or a traceback.
    assert "Traceback" not in server.log()
    assert " ERROR " not in server.log()


@settings(FUZZ, max_examples=150)
@given(target=requests_())
def test_fuzz_server(fuzz_server, target):
    """The raw request line goes to gevent's parser unaltered, '..' and all."""
    with socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status = int(answer.split(b" ", 2)[1])
    event(f"status {status}")
    assert status < 500, (target, answer[:300])
    assert SECRET not in answer, target
