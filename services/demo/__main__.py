"""``python -m services.demo`` (what ``make run`` runs): patch for gevent, then run.

Until the demo's own handlers are in place (importing takes a moment), a Ctrl-C
or SIGTERM ends it quietly: nothing has been started yet that would need stopping.
"""

import signal
import sys


def _quit(signum, frame):
    sys.exit(128 + signum)


signal.signal(signal.SIGINT, _quit)
signal.signal(signal.SIGTERM, _quit)

from services.runtime.patching import patch_all  # noqa: E402 - after the quiet handlers

patch_all()

from services.demo.command import main  # noqa: E402 - after patching, as gevent asks

sys.exit(main())
