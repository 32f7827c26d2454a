"""Services under test as subprocesses (any ``python -m services.NAME``), logs collected.

:class:`ServiceProcess` runs any service module and reads its stderr as it comes;
:class:`ServerProcess` is a restreamer on a free port, its URL read from its log.
Subprocesses keep gevent's patching out of pytest.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["ROOT", "ServerProcess", "ServiceProcess", "metric"]

ROOT = Path(__file__).resolve().parents[1]


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text, 0 if absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


class ServiceProcess:
    """``python -m MODULE ARGS...`` running in the background; ``lines`` is its stderr so far."""

    def __init__(self, module: str, *args: str, stdout=None) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._metrics_url: str | None = None

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # EOF marker: the process has closed stderr
            self._changed.notify_all()

    def wait_for_log(self, pattern: str, timeout: float = 30) -> str:
        """The first log line matching ``pattern``, waiting for it if need be."""
        regex = re.compile(pattern)
        with self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if regex.search(line):
                        return line
                seen = len(self.lines)
                if self.lines and self.lines[-1] == "":
                    raise AssertionError(f"server exited without logging {pattern!r}:\n"
                                         + "".join(self.lines))  # fmt: skip
                if not self._changed.wait(timeout):
                    raise AssertionError(f"no log line {pattern!r} in {timeout}s:\n"
                                         + "".join(self.lines))  # fmt: skip

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            self._reader.join(5)
            self.proc.stderr.close()

    def log(self) -> str:
        return "".join(self.lines)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to exit by itself; its exit status."""
        code = self.proc.wait(timeout)
        self._reader.join(5)
        if not self._reader.is_alive():  # its stderr is read to the end: close our side
            self.proc.stderr.close()
        return code

    def metrics(self) -> str:
        """The text of its /metrics (started with ``--metrics-port 0``)."""
        if self._metrics_url is None:
            line = self.wait_for_log(r"metrics on http://[^:]+:\d+/metrics")
            port = line.rsplit(":", 1)[1].split("/")[0]
            self._metrics_url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(self._metrics_url, timeout=10) as resp:
            return resp.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        return metric(self.metrics(), name, **labels)


class ServerProcess(ServiceProcess):
    """A running restreamer subprocess; ``url`` is its root, ``lines`` its log so far.

    Started with ``--no-db`` unless given ``--db`` or ``embedded=True``.
    """

    def __init__(self, base: Path, *args: str, embedded: bool = False) -> None:
        if not embedded and "--db" not in args and "--no-db" not in args:
            # Without --db the restreamer runs the archive's own database: only when asked.
            args = (*args, "--no-db")
        super().__init__(
            "services.restreamer", "--base-dir", str(base), "--port", "0", *args,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            line = self.wait_for_log(r"serving .* on https?://127\.0\.0\.1:(\d+)/")
        except BaseException:
            self.proc.kill()  # never leave a server behind
            self.stop()
            raise
        found = re.search(r"(https?)://127\.0\.0\.1:(\d+)/", line)
        self.port = int(found.group(2))
        self.url = f"{found.group(1)}://127.0.0.1:{self.port}"
