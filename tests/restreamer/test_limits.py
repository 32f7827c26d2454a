"""The client limits' own logic: fitting connections to descriptors, refusals, body caps."""

import logging

import pytest

from services.restreamer.limits import (
    FD_RESERVE,
    FDS_PER_CONNECTION,
    Limits,
    accepts_body,
    body_limit,
    refusal,
)


def test_connections_are_lowered_to_fit_the_descriptor_limit(caplog):
    assert Limits(connections=1000).fitted(1 << 20).connections == 1000
    with caplog.at_level(logging.WARNING):
        fitted = Limits(connections=1000).fitted(1024)
    assert fitted.connections == (1024 - 512) // FDS_PER_CONNECTION  # half kept back
    assert "ulimit -Hn" in caplog.text
    assert Limits(connections=1000).fitted(3000).connections == (3000 - FD_RESERVE) // 3
    assert Limits(connections=5).fitted(2).connections == 1  # never none at all
    assert fitted.per_address == Limits().per_address  # the rest as given


def test_a_refusal_is_a_whole_closing_answer_with_one_line():
    answer = refusal(431, "too many headers: send fewer", "Retry-After: 5")
    head, body = answer.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"Connection: close" in lines
    assert b"Retry-After: 5" in lines
    assert f"Content-Length: {len(body)}".encode() in lines
    assert body == b"431 Request Header Fields Too Large: too many headers: send fewer\n"


def test_a_view_takes_no_body_unless_marked():
    @accepts_body(1234, "send fewer names")
    def marked():
        pass

    def plain():
        pass

    assert body_limit(marked) == (1234, "send fewer names")
    assert body_limit(plain)[0] == 0
    assert body_limit(None)[0] == 0


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/batch/ch/q/2026-11-27T17", b"[" + b'"a",' * 20000 + b'"a"]', 413),
        ("GET", "/files", b"abc", 413),
        ("POST", "/batch/ch/q/2026-11-27T17", b"[" * 60000, 400),
    ],
    ids=["batch over 64 KiB", "a body where none is taken", "nested too deep"],
)
def test_bodies_are_checked_before_a_view_reads_them(make_client, tmp_path, method, path, body,
                                                     status):  # fmt: skip
    client = make_client(tmp_path)
    response = client.open(path, method=method, data=body)
    assert response.status_code == status
    assert response.text.count("\n") == 1


def test_redirects_carry_the_path_alone(make_client, tmp_path):
    client = make_client(tmp_path)
    response = client.get("/files//ch?x=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/files/ch?x=1"
