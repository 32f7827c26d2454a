"""How a node and its services fail: one line an operator can act on, and recovery.

Real processes: ``python -m services.node`` and ``python -m services.restreamer``
against a port another socket holds, and nodes given options a service refuses
(refused before anything starts, with the service's own message).
"""

import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def held_port():
    """A listening socket on 127.0.0.1 holding a port (close it to free the port)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, s.getsockname()[1]


class Running:
    """A command in the background with its merged output collected line by line."""

    def __init__(self, *args: str):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.reader.join(5)
            self.proc.stdout.close()


def free_port() -> int:
    sock, port = held_port()
    sock.close()
    return port


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_restreamer_port_in_use_is_one_line(tmp_path):
    sock, port = held_port()
    with sock:
        out = run("-m", "services.restreamer", "--base-dir", str(tmp_path), "--port", str(port))
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last == (
        f"fastseg restreamer: cannot listen on 127.0.0.1:{port} (address already in use): "
        "stop what uses it or give another --port"
    )


def test_metrics_port_in_use_is_one_line(tmp_path):
    sock, port = held_port()
    with sock:
        out = run("-m", "services.janitor", "--base-dir", str(tmp_path),
                  "--metrics-port", str(port))  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"cannot listen on 0.0.0.0:{port} (address already in use): "
            "stop what uses it or give another --metrics-port"
        )
    )


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--recent-cutoff", "-1", "expected a number of seconds >= 0, got '-1'"),
        ("--backfill-interval", "0", "expected a positive number of seconds, got '0'"),
        ("--location", "nowhere", "the cutter refuses"),
        ("--tls-cert", "/nonexistent/fullchain.pem", "--tls-cert and --tls-key go together"),
        ("--peer-ca", "/nonexistent/ca.pem", "is not a readable PEM file of CA certificates"),
        # Refused by the downloader's own checks after parsing, not by argparse: still
        # the node's usage error before anything starts, never a service restarted for ever.
        (
            "--qualities",
            ",",
            "the downloader refuses what these options give it: --qualities ',' names no quality",
        ),
        ("--editor-token-file", "/nonexistent/tokens", "the restreamer refuses"),
    ],
)
def test_node_refuses_bad_options_before_starting_anything(tmp_path, option, value, says):
    base = tmp_path / "base"
    out = run("-m", "services.node", "--base-dir", str(base), "--channel", "c",
              "--url", "http://127.0.0.1:1/master.m3u8", option, value)  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert says in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("fastseg node: error:")
    assert "Traceback" not in out.stderr
    assert not base.exists(), "the node started something before refusing its options"


@pytest.mark.slow
def test_node_restreamer_recovers_when_its_port_frees_up(tmp_path, pg_dsn):
    sock, port = held_port()
    node = Running("-m", "services.node", "--base-dir", str(tmp_path), "--channel", "c",
                   "--url", "http://127.0.0.1:1/master.m3u8", "--db", pg_dsn,
                   "--host", "127.0.0.1", "--port", str(port))  # fmt: skip
    try:
        with sock:
            wait_until(lambda: node.log.count("cannot listen on") >= 2, "two failed starts",
                       timeout=60, interval=0.2, detail=lambda: node.log)  # fmt: skip
        answered = wait_until(
            lambda: _get(f"http://127.0.0.1:{port}/metrics"), "the restreamer to serve",
            timeout=90, interval=0.5, detail=lambda: node.log,
        )  # fmt: skip
        assert b'fastseg_node_service_restarts_total{service="restreamer"}' in answered
    finally:
        code = node.stop()
    assert code == 0, node.log
    failures = [x for x in node.lines if "cannot listen on" in x]
    for line in failures:  # one line per retry, each saying what to do
        assert "service 'restreamer' exited: fastseg restreamer: cannot listen on" in line
        assert "give another --port; starting it again in" in line
    for noise in ("Traceback", "Duplicated timeseries", "DuplicateTimeseries"):
        assert noise not in node.log


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read()
    except OSError:
        return None
