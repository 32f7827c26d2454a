"""Cutter processes for tests: ``python -m services.cutter`` with its log in a file."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request

from tests.waiting import wait_until


class CutterProcess:
    """``python -m services.cutter`` in a subprocess, its output in a log file."""

    def __init__(self, tmp_path, dsn, base, name, locations, *extra):
        self.name = name
        self.log_path = tmp_path / f"cutter-{name}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "-m", "services.cutter", "--name", name, "--base-dir", str(base)]
        args += ["--db", dsn, "--poll-interval", "0.2", "--transcode-interval", "0.2"]
        args += [f"--location={loc}" for loc in locations]
        args += ["--log-level", "DEBUG", *extra]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text, timeout=120):
        return wait_until(lambda: text in self.output(), f"{text!r} in {self.name}'s log", timeout)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"cutter {self.name} ignored SIGTERM:\n{self.output()}"
                ) from None
        self.log.close()
        return self.proc.returncode

    def metrics(self, port) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            return resp.read().decode()


def free_port():
    """A port free on 127.0.0.1 right now, for a child process to listen on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
