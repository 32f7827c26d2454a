"""The server's request-head reader, on bytes: limits, grammar, framing, where a request goes."""

import io

import pytest

from services.restreamer.heads import Refused, read_head
from services.restreamer.limits import Limits

LIMITS = Limits(header_bytes=1024, header_lines=10)
SEGMENT = b"GET /segments/ch/q/2026-11-27T17/a.ts HTTP/1.1\r\n"


def head(data: bytes, limits: Limits = LIMITS, direct: bool = True):
    return read_head(io.BufferedReader(io.BytesIO(data)), limits, direct)


@pytest.mark.parametrize(
    ("data", "direct", "close"),
    [
        pytest.param(SEGMENT + b"Host: x\r\n\r\n", True, False, id="plain get"),
        pytest.param(SEGMENT.replace(b"GET", b"HEAD") + b"\r\n", True, False, id="head"),
        pytest.param(SEGMENT + b"Range: bytes=0-1\r\n\r\n", False, False, id="range"),
        pytest.param(SEGMENT + b"Content-Length: 0\r\n\r\n", True, False, id="empty body"),
        pytest.param(SEGMENT + b"Content-Length: 3\r\n\r\n", False, False, id="a body"),
        pytest.param(SEGMENT + b"Transfer-Encoding: chunked\r\n\r\n", False, False, id="chunked"),
        pytest.param(SEGMENT + b"Connection: close\r\n\r\n", True, True, id="close"),
        pytest.param(SEGMENT.replace(b"1.1", b"1.0") + b"\r\n", True, True, id="http/1.0"),
        pytest.param(b"GET /files?x=1 HTTP/1.1\r\n\r\n", False, False, id="query"),
        pytest.param(
            b"POST /batch/a/b/c HTTP/1.1\r\nContent-Length: 2\r\n\n",
            False,
            False,
            id="post, bare LF",
        ),  # fmt: skip
    ],
)
def test_heads_that_are_taken(data, direct, close):
    taken = head(data)
    assert taken.direct is direct
    assert taken.close is close
    assert b"".join(taken.lines) == data  # every line, for pywsgi to read again


def test_no_direct_path_means_no_direct_request():
    assert head(SEGMENT + b"\r\n", direct=False).direct is False


@pytest.mark.parametrize(
    ("data", "code", "label"),
    [
        (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n\r\n", 414, "line_too_long"),
        (SEGMENT + b"X: " + b"a" * 1000 + b"\r\n\r\n", 431, "headers_too_large"),
        (SEGMENT + b"A: b\r\n" * 11 + b"\r\n", 431, "headers_too_large"),
        (b"GET /\r\n\r\n", 400, "request_line"),
        (b"GET / HTTP/2.0\r\n\r\n", 400, "request_line"),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "headers"),
        (b"GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n", 400, "headers"),
        (b"GET / HTTP/1.1\r\nA : b\r\n\r\n", 400, "headers"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "framing"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400, "framing"),
        (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "framing"),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400, "framing"),
    ],
    ids=["long line", "long header", "many lines", "http/0.9", "http/2", "no colon", "folded",
         "space before colon", "cl+te", "two cl", "negative cl", "identity te"],
)  # fmt: skip
def test_heads_that_are_refused(data, code, label):
    with pytest.raises(Refused) as refused:
        head(data)
    assert (refused.value.code, refused.value.label) == (code, label)
    assert refused.value.reason  # says what is wrong


@pytest.mark.parametrize("data", [b"", b"GET / HT", SEGMENT, SEGMENT + b"Host: x\r\n"])
def test_a_head_cut_short_is_none(data):
    assert head(data) is None
