"""``fastseg demo`` end to end: it prints an editor token, cuts its clip through the API, and
the printed token takes an edit through the API as the page would send it.

Everything is real: the demo's live source, its node on the archive's own
embedded PostgreSQL, the cutter, and HTTP on loopback.
"""

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import pytest
import requests

from tests.node.test_node_end_to_end import free_port
from tests.servers import ROOT
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_base():
    """A base dir the postgres user can reach, so the embedded cluster lives inside it."""
    root = tempfile.mkdtemp(dir="/var/tmp", prefix="fastseg-demo-")
    os.chmod(root, 0o755)
    yield os.path.join(root, "archive")
    shutil.rmtree(root, ignore_errors=True)


def test_demo_prints_a_token_that_edits_through_the_api(demo_base):
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "services.demo", "--base-dir", demo_base, "--port", str(port),
         "--clip-after", "0"],
        cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []

    def read():
        for line in demo.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def printed(pattern):
        for line in lines:
            if found := re.search(pattern, line):
                return found
        assert demo.poll() is None, "".join(lines[-40:])
        return None

    try:
        web = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: printed(rf"edit: +{web}/editor"), "the editor URL", 120, 0.5)
        found = wait_until(lambda: printed(r"editor token for (\S+): (\S+)"), "the token", 5, 0.1)
        email, token = found.group(1), found.group(2)
        assert email.endswith("@localhost")
        clip = wait_until(lambda: printed(r"^clip: (\S+)"), "the demo's clip", 240, 1).group(1)
        assert clip.startswith(f"{web}/clips/")
        got = requests.get(clip, timeout=30)
        assert got.status_code == 200
        assert got.content[0] == 0x47  # MPEG-TS
        # The clips are hidden in BASE: the archive lists only the recorded channel.
        assert requests.get(f"{web}/files", timeout=30).json() == ["demo"]

        # The printed token is an editor's: an edit through the API, as the page sends it.
        auth = {"Authorization": f"Bearer {token}"}
        added = requests.post(f"{web}/api/events", json={"sheet_name": "mine"}, headers=auth,
                              timeout=30)  # fmt: skip
        assert added.status_code == 201, added.text
        end = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=8)
        edit = {
            "video_start": (end - dt.timedelta(seconds=4)).isoformat(),
            "video_end": end.isoformat(), "video_title": "mine", "video_channel": "demo",
            "video_quality": "360p", "upload_location": "clips",
        }  # fmt: skip
        edited = requests.post(f"{web}/api/events/{added.json()['id']}/edit", json=edit,
                               headers=auth, timeout=30)  # fmt: skip
        assert edited.status_code == 200, edited.text
        assert (edited.json()["state"], edited.json()["editor"]) == ("EDITED", email)
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(120)
        reader.join(10)
        demo.stdout.close()
    assert code == 0, "".join(lines[-40:])
