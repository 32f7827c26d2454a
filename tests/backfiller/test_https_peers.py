"""Backfilling from ``https://`` peers: real restreamers over TLS with openssl-made certificates.

A self-signed peer is refused by default (the pass fails, nothing is written, the
log says which option would trust it) and used with ``--insecure-peers`` (one
WARNING); a peer whose certificate a team's CA signed is used with ``--peer-ca``
naming that CA, and refused with another CA's file.
"""

import pytest

from tests.backfiller.trees import contents, tree
from tests.certificates import make_ca, self_signed, signed_by
from tests.servers import ServerProcess

HOLES = {"source": {3}}
INSECURE = "--insecure-peers: the certificates of https:// peers are not checked"


@pytest.fixture
def https_peer(stream, tmp_path):
    """``https_peer(cert, key)``: a restreamer over the tree in tmp_path/remote, over TLS."""
    remote = tree(stream, tmp_path / "remote", HOLES)
    started = []

    def start(cert, key):
        server = ServerProcess(remote, "--tls-cert", str(cert), "--tls-key", str(key))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _local(tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    return local


@pytest.mark.slow
def test_a_self_signed_peer_is_refused_unless_insecure_peers(tmp_path, https_peer, backfiller):
    peer = https_peer(*self_signed(tmp_path))
    assert peer.url.startswith("https://")
    local = _local(tmp_path)
    refused = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0")
    assert refused.wait(60) == 1, refused.log()
    assert "certificate is not trusted" in refused.log()
    assert "give --peer-ca FILE with the CA that signed it, or --insecure-peers" in refused.log()
    assert contents(local) == {}  # nothing written, not even a temp file

    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0",
                     "--insecure-peers")  # fmt: skip
    assert run.wait(60) == 0, run.log()
    assert contents(local) == contents(tmp_path / "remote")
    warnings = [line for line in run.lines if INSECURE in line]
    assert len(warnings) == 1, run.log()
    assert " WARNING " in warnings[0]


@pytest.mark.slow
def test_peer_ca_trusts_a_teams_own_ca(tmp_path, https_peer, backfiller):
    ca = make_ca(tmp_path)
    peer = https_peer(*signed_by(ca, tmp_path))
    stranger = make_ca(tmp_path, "other-ca")
    local = _local(tmp_path)
    refused = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0",
                         "--peer-ca", str(stranger[0]))  # fmt: skip
    assert refused.wait(60) == 1, refused.log()
    assert "certificate is not trusted" in refused.log()
    assert contents(local) == {}

    run = backfiller(local, "--node", peer.url, "--run-once", "--recent-cutoff", "0",
                     "--peer-ca", str(ca[0]))  # fmt: skip
    assert run.wait(60) == 0, run.log()
    assert contents(local) == contents(tmp_path / "remote")
    assert INSECURE not in run.log()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(("--peer-ca", "missing"), "is not a readable PEM file", id="missing CA"),
        pytest.param(("--peer-ca", "garbage"), "is not a readable PEM file", id="not PEM"),
        pytest.param(
            ("--peer-ca", "garbage", "--insecure-peers"), "not allowed with", id="both"
        ),  # fmt: skip
    ],
)
def test_bad_peer_options_are_usage_errors(tmp_path, backfiller, args, reason):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    files = {"missing": str(tmp_path / "nosuch.pem"), "garbage": str(garbage)}
    argv = [files.get(arg, arg) for arg in args]
    run = backfiller(_local(tmp_path), "--node", "https://127.0.0.1:9", "--run-once", *argv)
    assert run.wait(60) == 2, run.log()
    assert reason in run.log()
    assert "Traceback" not in run.log()
