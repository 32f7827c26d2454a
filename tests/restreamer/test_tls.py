"""The restreamer over HTTPS (``--tls-cert``/``--tls-key``): a real subprocess on 127.0.0.1.

Certificates are made by ``openssl`` in each test (tests/certificates.py).
Playlists, segments (the direct path, a Range, a batch: every way a file is
sent) come back whole over kept-alive TLS connections; TLS 1.1 is refused; a
handshake that never ends is closed by the request timeout and frees its slot;
a certificate replaced while serving is given to new connections without a
restart, a bad replacement is logged at WARNING and the old one kept; a bad
pair at start is a usage error.
"""

import datetime as dt
import http.client
import json
import os
import socket
import ssl
import warnings

import m3u8
import pytest
import requests

from services.restreamer import command
from tests.certificates import fingerprint, self_signed, served_fingerprint
from tests.hostile.watch import error_records
from tests.restreamer.trees import make_tree
from tests.servers import ServerProcess, metric
from tests.waiting import wait_until

HOUR = "2026-11-27T17"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_server(real_base, pair):
    server = ServerProcess(real_base, "--tls-cert", str(pair[0]), "--tls-key", str(pair[1]))
    yield server
    server.stop()
    assert not error_records(server.log()), server.log()


def trusting(cert) -> ssl.SSLContext:
    """A client context that trusts ``cert`` (self-signed) and checks the name, as a browser."""
    return ssl.create_default_context(cafile=str(cert))


def test_https_serves_playlists_and_segments_on_kept_alive_connections(
    https_server, real_base, pair
):
    assert https_server.url.startswith("https://127.0.0.1:")
    session = requests.Session()
    session.trust_env = False  # $REQUESTS_CA_BUNDLE would replace session.verify
    session.verify = str(pair[0])
    playlist = session.get(https_server.url + "/playlist/test/source.m3u8", timeout=30)
    assert playlist.status_code == 200, playlist.text
    segments = m3u8.loads(playlist.text).segments
    assert len(segments) == 10
    for segment in segments:
        answer = session.get(https_server.url + segment.uri, timeout=30)
        assert answer.status_code == 200
        path = real_base / "test" / "source" / "/".join(segment.uri.split("/")[-2:])
        assert answer.content == path.read_bytes()
    # Every request went over one kept-alive connection.
    conn = http.client.HTTPSConnection("127.0.0.1", https_server.port, context=trusting(pair[0]))
    conn.request("GET", "/files/test/source")
    assert json.loads(conn.getresponse().read()) == ["2026-11-27T16", HOUR]
    first = conn.sock
    conn.request("GET", "/files/test")
    assert json.loads(conn.getresponse().read()) == ["low", "source"]
    assert conn.sock is first
    assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    conn.close()


def test_a_costly_route_runs_its_job_over_tls(https_server, pair):
    """A frame runs ffmpeg as a job, which watches the client's (TCP) socket meanwhile."""
    answer = requests.get(
        https_server.url + "/frame/test/source.png?timestamp=2026-11-27T17:00:01",
        verify=str(pair[0]), timeout=60,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\x89PNG\r\n")


def test_every_way_a_file_is_sent_works_over_tls(tmp_path, make_server, pair):
    """The direct path, a Range (through WSGI), and a batch of files, on a file of 5 MiB."""
    base = tmp_path / "base"
    (path,) = make_tree(base, "ch", "q", dt.datetime(2026, 11, 27, 17), 1)
    data = os.urandom(5 * 1024 * 1024 + 17)
    path.write_bytes(data)
    server = make_server(base, "--tls-cert", str(pair[0]), "--tls-key", str(pair[1]))
    url = f"{server.url}/segments/ch/q/{HOUR}/{path.name}"
    with requests.Session() as session:
        session.trust_env = False
        session.verify = str(pair[0])
        assert session.get(url, timeout=30).content == data
        ranged = session.get(url, headers={"Range": "bytes=1000-4000000"}, timeout=30)
        assert ranged.status_code == 206
        assert ranged.content == data[1000:4000001]
        batch = session.post(f"{server.url}/batch/ch/q/{HOUR}", json=[path.name], timeout=30)
        assert batch.status_code == 200
        assert batch.content == f"{path.name} {len(data)}\n".encode() + data


def test_tls_below_1_2_is_refused(https_server, pair):
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(pair[0]))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that this OpenSSL offers TLS 1.1 at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the point of the test
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    failures = "fastseg_restreamer_tls_handshake_failures_total"
    before = metric(_metrics(https_server, pair), failures, reason="refused")
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            old.wrap_socket(raw, server_hostname="127.0.0.1")
    after = metric(_metrics(https_server, pair), failures, reason="refused")
    assert after == before + 1
    tls12 = trusting(pair[0])
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    conn = http.client.HTTPSConnection("127.0.0.1", https_server.port, context=tls12)
    conn.request("GET", "/files")
    assert conn.getresponse().status == 200
    assert conn.sock.version() == "TLSv1.2"
    conn.close()


def _metrics(server, pair) -> str:
    return requests.get(server.url + "/metrics", verify=str(pair[0]), timeout=30).text


def test_the_client_limits_hold_over_tls(https_server, pair):
    """The decrypted request is read by the same server: headers over 16 KiB are a 431."""
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=10) as raw:
        with trusting(pair[0]).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /files HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert b"Connection: close" in answer


def test_plain_http_to_the_https_port_gets_no_answer(https_server):
    with socket.create_connection(("127.0.0.1", https_server.port), timeout=10) as raw:
        raw.sendall(b"GET /files HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass  # closed with the request unread
    assert b"HTTP/1.1 200" not in received  # a TLS alert, or nothing, then closed


@pytest.mark.slow
def test_a_handshake_never_finished_is_closed_and_frees_its_slot(real_base, make_server, pair):
    server = make_server(
        real_base, "--tls-cert", str(pair[0]), "--tls-key", str(pair[1]),
        "--request-timeout", "1", "--max-connections-per-address", "1",
    )  # fmt: skip
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    silent.sendall(b"\x16\x03\x01")  # the start of a ClientHello, and nothing more
    # The one slot of this address is held: another connection is closed at once.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        ssl.get_server_certificate(("127.0.0.1", server.port), timeout=10)
    assert silent.recv(1) == b""  # closed by the server when the request timeout ran out
    silent.close()
    # The slot is free again (the socket's close reaches the server a moment later).
    text = wait_until(lambda: _fetched_metrics(server, pair), "the slot to be free", timeout=30)
    assert metric(text, "fastseg_restreamer_tls_handshake_failures_total", reason="timeout") == 1
    assert metric(text, "fastseg_restreamer_connections_refused_total", reason="per_address") >= 1


def _fetched_metrics(server, pair) -> str | None:
    try:
        return _metrics(server, pair)
    except requests.ConnectionError:
        return None  # the one slot is still taken


@pytest.mark.slow
def test_a_renewed_certificate_is_used_without_a_restart(real_base, make_server, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    first = self_signed(live, "first")
    cert, key = live / "fullchain.pem", live / "privkey.pem"
    os.link(first[0], cert)
    os.link(first[1], key)
    server = make_server(real_base, "--tls-cert", str(cert), "--tls-key", str(key))
    pid = server.proc.pid
    assert served_fingerprint(server.port) == fingerprint(first[0])
    kept = http.client.HTTPSConnection("127.0.0.1", server.port, context=trusting(first[0]))
    kept.request("GET", "/files")
    assert kept.getresponse().read()

    second = self_signed(live, "second")  # as certbot renews: new files moved into place
    os.replace(second[1], key)
    os.replace(second[0], cert)
    wait_until(
        lambda: served_fingerprint(server.port) == fingerprint(cert),
        "new connections to get the renewed certificate",
        timeout=30,
    )
    assert fingerprint(cert) != fingerprint(first[0])
    fresh = requests.get(server.url + "/files", verify=str(cert), timeout=30)
    assert fresh.json() == ["test"]
    # A connection made before the renewal keeps its certificate and still works.
    kept.request("GET", "/files/test")
    assert json.loads(kept.getresponse().read()) == ["low", "source"]
    assert kept.sock.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(first[0].read_text())
    kept.close()

    # A broken replacement: logged at WARNING, and the pair loaded before kept.
    renewed = fingerprint(cert)
    trusted = tmp_path / "renewed.pem"
    trusted.write_text(cert.read_text())
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")

    def refused_and_kept() -> bool:  # the files are looked at when a connection comes
        assert served_fingerprint(server.port) == renewed
        return "WARNING services.restreamer.tls: the changed certificate does not load" in (
            server.log()
        )

    wait_until(refused_and_kept, "a WARNING about the broken certificate", timeout=30)
    assert requests.get(server.url + "/files", verify=str(trusted), timeout=30).ok
    assert server.proc.pid == pid
    assert server.proc.poll() is None
    assert not error_records(server.log()), server.log()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(("cert",), "--tls-cert and --tls-key go together", id="cert alone"),
        pytest.param(
            ("cert", "other_key"), "are not a PEM certificate and its private key", id="not a pair"
        ),  # fmt: skip
        pytest.param(("cert", "missing"), "does not exist", id="missing key"),
        pytest.param(("key", "key"), "are not a PEM certificate", id="key as cert"),
    ],
)
def test_a_bad_pair_at_start_is_a_usage_error(tmp_path, pair, args, reason, capsys):
    other = self_signed(tmp_path, "other")
    files = {"cert": pair[0], "key": pair[1], "other_key": other[1],
             "missing": tmp_path / "nosuch.key"}  # fmt: skip
    argv = ["--tls-cert", str(files[args[0]])]
    if len(args) > 1:
        argv += ["--tls-key", str(files[args[1]])]
    # Refused while parsing, before anything is patched or started: in this process.
    with pytest.raises(SystemExit) as stopped:
        command.main(["--base-dir", str(tmp_path), "--no-db", "--port", "0", *argv])
    assert stopped.value.code == 2
    assert reason in capsys.readouterr().err
