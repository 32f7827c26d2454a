"""Services under test as subprocesses (any ``python -m services.NAME``), logs collected.

:class:`~tests.restreamer.conftest.ServerProcess` already runs a restreamer this
way; :class:`ServiceProcess` starts any service module and reuses its log reader,
``wait_for_log`` and ``stop``. Subprocesses keep gevent's patching out of pytest.
"""

import os
import subprocess
import sys
import threading
import urllib.request

from tests.restreamer.conftest import ROOT, ServerProcess, metric

__all__ = ["ServerProcess", "ServiceProcess", "metric"]


class ServiceProcess(ServerProcess):
    """``python -m MODULE ARGS...`` running in the background; ``lines`` is its stderr so far."""

    def __init__(self, module: str, *args: str) -> None:  # own start; the reader is shared
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._metrics_url: str | None = None

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to exit by itself; its exit status."""
        code = self.proc.wait(timeout)
        self._reader.join(5)
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
