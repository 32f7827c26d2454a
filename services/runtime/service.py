"""What every service's ``main`` does the same way: arguments, logging, metrics, stopping.

A service's ``main(argv)`` builds its parser with :func:`argument_parser`, calls
:func:`setup`, starts its greenlets, and waits on the event that
:func:`stop_on_signals` sets when SIGTERM or SIGINT arrives.
"""

import argparse
import gc
import logging
import math
import os
import resource
import signal
from typing import Any

import gevent
import gevent.event
import prometheus_client
from gevent.pywsgi import WSGIServer

import profiling

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above zero.

    ``inf`` and ``nan`` are refused: every option of this kind is a wait, an
    interval or a timeout, and a wait for ever is spelled by leaving it out.
    """
    value = _seconds(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def non_negative_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds, zero or more (``inf``, ``nan`` refused)."""
    value = _seconds(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def argument_parser(
    prog: str, description: str, *, base_dir: bool = True, service: bool = True
) -> argparse.ArgumentParser:
    """A parser with the options every service shares: --base-dir, --metrics-port, --log-level.

    A one-shot tool (``service=False``) has no metrics server or stack sampler to ask for.
    """
    parser = argparse.ArgumentParser(prog=f"fastseg {prog}", description=description)
    if base_dir:
        parser.add_argument(
            "--base-dir",
            default=os.environ.get("FASTSEG_BASE", "."),
            help="archive root: BASE/CHANNEL/QUALITY/HOUR/NAME (default: $FASTSEG_BASE or .)",
        )
    if service:
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            help="serve Prometheus metrics on this port (0 picks a free one; default: none)",
        )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("FASTSEG_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level on stderr (default: $FASTSEG_LOG_LEVEL or INFO)",
    )
    if service:
        profiling.add_arguments(parser)
    return parser


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr, counting records in ``fastseg_process_log_records_total``; called once."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    profiling.install_log_counter()


def listen(server: Any, option: str, prog: str = "fastseg") -> None:
    """``server.start()``, or a one-line ``SystemExit`` naming the address and ``option``.

    A port in use is something the operator fixes, not a crash: its traceback helps
    nobody. Inside a node the supervisor logs the line and starts the service again.
    """
    try:
        server.start()
    except OSError as e:
        host, port = server.address[:2]
        reason = (os.strerror(e.errno) if e.errno else str(e)).lower()
        raise SystemExit(
            f"{prog}: cannot listen on {host}:{port} ({reason}): "
            f"stop what uses it or give another {option}"
        ) from None


def start_metrics_server(
    port: int,
    host: str = "0.0.0.0",
    registry: prometheus_client.CollectorRegistry = prometheus_client.REGISTRY,
) -> WSGIServer:
    """Serve ``/metrics`` from a greenlet; returns the started server (``server.server_port``).

    A port in use exits with one line (see :func:`listen`).
    """
    app = prometheus_client.make_wsgi_app(registry)
    server = WSGIServer((host, port), app, log=None, error_log=logger)
    listen(server, "--metrics-port")
    logger.info("metrics on http://%s:%d/metrics", host, server.server_port)
    return server


# Set by the first stop signal this process receives: a service whose main starts
# after it (inside a node that is starting up, say) must stop as well, not wait for
# a signal that has already come.
_signalled = gevent.event.Event()


def stop_on_signals() -> gevent.event.Event:
    """An event set on the first SIGTERM or SIGINT; a second one exits at once."""
    stopping = gevent.event.Event()
    if _signalled.is_set():
        stopping.set()

    def handler() -> None:
        if stopping.is_set():
            logger.warning("second stop signal: exiting now")
            os._exit(1)
        logger.info("stop signal received: stopping")
        _signalled.set()
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, handler)
    return stopping


def freeze_startup_heap() -> None:
    """Collect once, then keep every object alive now out of later collections.

    A fresh process has never run a full collection, so its first one (which
    the first burst of allocations triggers, e.g. a cold selection) walks
    every object the imports made: tens of milliseconds with the loop
    stopped. Modules, classes and functions live as long as the process, so
    they are frozen once here and later collections walk only what was made
    since (this is what ``gc.freeze`` is for).
    """
    gc.collect()
    gc.freeze()


# What "no hard limit" becomes for the soft one: the kernel refuses more than
# fs.nr_open (1048576 by default) descriptors per process anyway.
_NO_HARD_LIMIT = 1 << 20


def raise_fd_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; returns the limit.

    The soft limit is often 1024, which a few hundred client connections (each
    holding a socket, a segment and its hour's lock) exhaust; the hard limit is
    what the operator allows, and a process may take all of it. Idempotent.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NO_HARD_LIMIT if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # above fs.nr_open: keep what we have
            logger.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
            return soft
        logger.debug("open-file limit raised from %d to %d", soft, target)
        return target
    return soft if soft != resource.RLIM_INFINITY else _NO_HARD_LIMIT


def setup(args: argparse.Namespace) -> None:
    """Logging, the fd limit, the stack sampler and the metrics server, as the arguments ask."""
    freeze_startup_heap()
    setup_logging(args.log_level)
    raise_fd_limit()
    profiling.start_from_args(args)
    if getattr(args, "metrics_port", None) is not None:
        start_metrics_server(args.metrics_port)
