"""A directory under BASE the restreamer cannot read: a 500 it logs, never an empty list.

The listings and ``services.archive.layout`` share one rule (docs/DESIGN.md#status-codes):
a directory that is asked for and cannot be read is the operator's to fix, and a
peer must not take it for an empty archive; one that is only looked into, to tell
whether it is a channel or a quality, counts as none. Permissions bind root only
without its capabilities to override them, so as root the check runs in a child
without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (``setpriv``, util-linux).
"""

import datetime as dt
import json
import os
import subprocess
import sys

from tests.restreamer.trees import make_tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
T0 = dt.datetime(2026, 11, 27, 17, 0, 0)

CHILD = """
import json, sys
import prometheus_client
from services.archive import layout
from services.restreamer.app import create_app

base = sys.argv[1]
client = create_app(
    {"BASE_DIR": base, "METRICS_REGISTRY": prometheus_client.CollectorRegistry()}
).test_client()
answers = {}
for url in sys.argv[2:]:
    response = client.get(url)
    answers[url] = [response.status_code, response.get_data(as_text=True)]
try:
    layout.qualities(base, "locked")
    raised = None
except PermissionError as e:
    raised = type(e).__name__
answers["layout"] = [layout.channels(base), layout.is_channel(base, "locked"), raised]
print(json.dumps(answers))
"""


def without_permission_override(*argv: str) -> list[str]:
    """``argv`` run so that file permissions bind (root drops the capabilities that skip them)."""
    if os.geteuid() != 0:
        return list(argv)
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]


def test_an_unreadable_directory_is_a_500_and_one_only_looked_into_is_none(tmp_path):
    base = tmp_path / "base"
    make_tree(base, "ch", "source", T0, 3)
    make_tree(base, "ch", "locked-quality", T0, 3)
    make_tree(base, "ch", "hidden-hour", T0, 3)
    make_tree(base, "locked", "source", T0, 3)
    locked = [
        base / "locked",
        base / "ch" / "locked-quality",
        base / "ch" / "hidden-hour" / "2026-11-27T17",
    ]
    for path in locked:
        path.chmod(0)
    urls = [
        "/files",
        "/files/ch",
        "/files/locked",
        "/files/ch/locked-quality",
        "/files/ch/hidden-hour/2026-11-27T17",
        "/files/ch/source/2026-11-27T17",
    ]
    try:
        child = subprocess.run(
            without_permission_override(sys.executable, "-c", CHILD, str(base), *urls),
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        for path in locked:
            path.chmod(0o755)
    assert child.returncode == 0, child.stderr
    answers = json.loads(child.stdout)
    # Looked into only: a channel or quality that cannot be read is none of them.
    assert answers["/files"] == [200, '["ch"]\n']
    assert json.loads(answers["/files/ch"][1]) == ["hidden-hour", "source"]
    # Asked for: the operator's to fix, said in the log, never an empty list.
    for url in urls[2:5]:
        assert answers[url] == [500, "500 Internal Server Error: see the restreamer's log\n"], url
    assert child.stderr.count("unexpected error answering GET") == 3, child.stderr
    assert "PermissionError" in child.stderr
    assert len(json.loads(answers["/files/ch/source/2026-11-27T17"][1])) == 3
    assert answers["layout"] == [["ch"], False, "PermissionError"]
