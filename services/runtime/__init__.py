"""The runtime every service shares: the service contract, logging, metrics,
backoff, gevent patching, child processes and Google's OAuth.

Imports nothing of fastseg's services (only ``profiling``), so any layer may use
it. See docs/DESIGN.md#layers.
"""
