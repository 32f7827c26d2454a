"""What a long-running service exposes, so that its own ``main`` and a node run it the same way.

A service's ``command`` module provides three functions (:class:`Service`):

``build_parser()``
    its argparse parser (from :func:`services.runtime.service.argument_parser`);
``options(parser, args)``
    the checks argparse cannot make, ending in ``parser.error``, and the options
    object ``run`` takes (the parsed ``Namespace`` itself, or a small dataclass
    where values are derived from it);
``run(options, stopping, registry)``
    the service until the gevent event ``stopping`` is set, its metrics declared in
    the Prometheus ``registry``; returns an exit status.

Its ``main(argv)`` is ``contract.main(module, argv)``: parse, set up logging, the
metrics server and the stop signals, then run. A node parses the argv it builds for
each service with :func:`parse_options` before anything starts, so an option a
service refuses is the node's usage error, then calls each ``run`` in a greenlet
with one stop event and one registry (services/node/supervisor.py).
"""

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any, NoReturn, Protocol, runtime_checkable

import gevent.event
import prometheus_client

from services.runtime import service

__all__ = ["Refused", "Service", "main", "own_stop", "parse_options"]


@runtime_checkable
class Service(Protocol):
    """A service's ``command`` module (modules satisfy protocols)."""

    def build_parser(self) -> argparse.ArgumentParser: ...

    def options(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any: ...

    def run(
        self,
        options: Any,
        stopping: gevent.event.Event,
        registry: prometheus_client.CollectorRegistry,
    ) -> int: ...


class Refused(ValueError):
    """A service's parser or checks refused the arguments; the message says why."""


def _refuse(message: str) -> NoReturn:
    raise Refused(message)


def parse_options(svc: Service, argv: list[str]) -> Any:
    """The options ``svc`` builds from ``argv``; raises :class:`Refused` with its own message.

    Used by a node, which reports the refusal as its own usage error instead of exiting
    with the service's usage line.
    """
    parser = svc.build_parser()
    parser.error = _refuse  # type: ignore[method-assign]
    return svc.options(parser, parser.parse_args(argv))


def main(svc: Service, argv: list[str] | None) -> int:
    """Run ``svc`` as its own process: parse (bad options exit 2), set up, run until a signal."""
    parser = svc.build_parser()
    args = parser.parse_args(argv)
    options = svc.options(parser, args)
    service.setup(args)
    return svc.run(options, service.stop_on_signals(), prometheus_client.REGISTRY)


@contextlib.contextmanager
def own_stop(stopping: gevent.event.Event) -> Iterator[gevent.event.Event]:
    """An event set when ``stopping`` is, that a service may also set to stop only itself.

    In a node ``stopping`` is every service's: a service ending on its own (a fatal
    database error, say) must not set it and stop the others.
    """
    own = gevent.event.Event()

    def link(_: gevent.event.Event) -> None:
        own.set()

    stopping.rawlink(link)
    if stopping.is_set():
        own.set()
    try:
        yield own
    finally:
        stopping.unlink(link)
