"""Where a fastseg process spends its time: timed() metrics, log counts and stack samples.

* :func:`timed` records wall and CPU time histograms for a function.
* :func:`install_log_counter` counts log records by level, module and function.
* :class:`StackSampler` samples the main thread's stack into a counter that a
  ``/metrics`` scrape can never deadlock on; :func:`add_arguments` and
  :func:`start_from_args` switch it on from a service's command line.
* ``python -m profiling.flamegraph`` turns sampled stacks into a flamegraph.
"""

from profiling.log_counter import LogCounter, install_log_counter
from profiling.options import add_arguments, sampler_enabled, start_from_args
from profiling.sampler import StackSampler
from profiling.timing import timed

__all__ = [
    "LogCounter",
    "StackSampler",
    "add_arguments",
    "install_log_counter",
    "sampler_enabled",
    "start_from_args",
    "timed",
]
