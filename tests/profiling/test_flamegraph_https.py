"""python -m profiling.flamegraph against a node's /metrics over HTTPS (a real restreamer with
``--tls-cert`` and ``--stack-sampler``, its certificate self-signed by openssl).

Refused by default with a one-line error saying what to give; read with ``--peer-ca``
naming the certificate, or with ``--insecure-peers`` (one WARNING).
"""

import logging

import pytest

from profiling.flamegraph import main
from tests.certificates import self_signed
from tests.servers import ServerProcess
from tests.waiting import wait_until


@pytest.fixture
def https_node(tmp_path):
    cert, key = self_signed(tmp_path)
    base = tmp_path / "base"
    base.mkdir()
    server = ServerProcess(base, "--tls-cert", str(cert), "--tls-key", str(key),
                           "--stack-sampler", "--stack-sampler-interval", "0.001")  # fmt: skip
    yield server, cert
    server.stop()


def test_an_https_node_is_read_with_its_ca_or_insecure_peers(https_node, tmp_path, capsys,
                                                              caplog):  # fmt: skip
    server, cert = https_node
    url = server.url + "/metrics"
    out = tmp_path / "f.txt"
    assert main(["--url", url, "--folded", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"flamegraph: error: {url}: its certificate is not trusted"), err
    assert "give --peer-ca FILE with the CA that signed it, or --insecure-peers" in err
    assert len(err.strip().splitlines()) == 1

    def read(*flags: str) -> bool:  # the sampler needs a moment to count its first stacks
        code = main(["--url", url, "--folded", str(out), *flags])
        return code == 0 and out.exists()

    wait_until(lambda: read("--peer-ca", str(cert)), "a flamegraph read with --peer-ca", 60)
    assert "fastseg_process_stack" not in out.read_text()  # folded stacks, not the page
    out.unlink()
    with caplog.at_level(logging.WARNING, logger="fastseg.peer_tls"):
        assert read("--insecure-peers")
    warned = [r for r in caplog.records if "--insecure-peers" in r.getMessage()]
    assert [r.levelname for r in warned] == ["WARNING"]
