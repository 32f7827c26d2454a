"""Turning the stack sampler on from a service's command line or environment.

A service calls :func:`add_arguments` on its parser and :func:`start_from_args`
after parsing; ``--stack-sampler`` or ``FASTSEG_STACK_SAMPLER=1`` turns it on.
"""

import argparse
import logging
import math
import os
from collections.abc import Mapping

import prometheus_client
from prometheus_client import CollectorRegistry

from profiling.sampler import DEFAULT_INTERVAL, StackSampler

logger = logging.getLogger(__name__)

ENV_VAR = "FASTSEG_STACK_SAMPLER"


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"sampling interval must be a positive number of seconds, got {text!r}"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--stack-sampler`` and ``--stack-sampler-interval`` to a service's parser."""
    parser.add_argument(
        "--stack-sampler",
        action="store_true",
        default=None,
        help=f"sample stacks into the fastseg_process_stack_seconds_total metric (or {ENV_VAR}=1)",
    )
    parser.add_argument(
        "--stack-sampler-interval",
        type=_interval,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"CPU seconds between samples (default: {DEFAULT_INTERVAL:g}, i.e. 200 Hz)",
    )


def sampler_enabled(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the flag or the environment asks for the sampler."""
    if getattr(args, "stack_sampler", None):
        return True
    value = environ.get(ENV_VAR, "")
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise ValueError(f"{ENV_VAR} must be 1 (on) or 0 (off), got {value!r}")


def start_from_args(
    args: argparse.Namespace,
    registry: CollectorRegistry | None = prometheus_client.REGISTRY,
    environ: Mapping[str, str] = os.environ,
) -> StackSampler | None:
    """Start a sampler if asked to (call from the main thread); returns it, or None."""
    if not sampler_enabled(args, environ):
        return None
    interval = getattr(args, "stack_sampler_interval", None) or DEFAULT_INTERVAL
    sampler = StackSampler(interval, registry=registry)
    sampler.start()
    return sampler
