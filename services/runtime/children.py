"""Child processes that do not outlive their parent, even one killed outright.

A parent stopped cleanly stops its children itself; one killed with SIGKILL (an
OOM kill, a supervisor's last resort, a test's cleanup) cannot, and a child in
a session of its own would run on for good. Linux's ``PR_SET_PDEATHSIG`` has the
kernel signal the child when the thread that started it dies.
"""

import ctypes
import signal
from collections.abc import Callable

__all__ = ["on_parent_death"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_prctl: Callable[..., int] | None
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children do not die with us
    _prctl = None


def on_parent_death(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` (run in the child between fork and exec): ``sig`` when the parent dies.

    SIGTERM lets a child that cleans up (a node, its database) stop as it would on
    an operator's stop; SIGKILL suits a child with nothing to clean (ffmpeg of a cut).
    """

    def arm() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return arm
