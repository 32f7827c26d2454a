"""How a node checks the certificates of ``https://`` peers: ``--peer-ca`` and ``--insecure-peers``.

Used by everything that fetches from other nodes (the backfiller, the node,
which passes the options on, and ``python -m profiling.flamegraph``). By
default a peer's certificate is checked against the system's CAs and its name,
as a browser would. ``--peer-ca FILE`` trusts the CAs of FILE instead (a
team's own CA); ``--insecure-peers`` checks nothing, for self-signed
certificates, and says so once at WARNING. TLS 1.2 at least either way. In the core
(stdlib only), as the flamegraph CLI, which imports nothing of services/, uses it too.
"""

import argparse
import logging
import ssl

logger = logging.getLogger(__name__)

__all__ = [
    "add_arguments",
    "client_context",
    "context_from_args",
    "describe_refusal",
    "passed_on",
    "warn_if_insecure",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--peer-ca FILE`` and ``--insecure-peers``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--peer-ca", metavar="FILE",
        help="trust the CA certificates of this PEM file (instead of the system's) for "
             "https:// peers, e.g. a team's own CA (default: the system's CAs)",
    )  # fmt: skip
    group.add_argument(
        "--insecure-peers", action="store_true",
        help="accept any certificate of an https:// peer, a self-signed one included: "
             "anyone between this node and its peers could read and change what is "
             "fetched (default: certificates are checked)",
    )  # fmt: skip


def client_context(ca_file: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """A client context checking peers against the system's CAs, ``ca_file``'s, or nothing.

    Raises OSError or ssl.SSLError if ``ca_file`` cannot be read or holds no certificate.
    """
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def context_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> ssl.SSLContext:
    """The context the options ask for; a bad ``--peer-ca`` is a usage error."""
    try:
        return client_context(args.peer_ca, args.insecure_peers)
    except (OSError, ssl.SSLError) as exc:
        parser.error(
            f"--peer-ca {args.peer_ca!r} is not a readable PEM file of CA certificates ({exc})"
        )


def warn_if_insecure(args: argparse.Namespace) -> None:
    """Once, when the work starts (logging set up): what ``--insecure-peers`` gives away."""
    if args.insecure_peers:
        logger.warning("--insecure-peers: the certificates of https:// peers are not checked, "
                       "so anyone on the way could read and change what is fetched")  # fmt: skip


def passed_on(args: argparse.Namespace) -> list[str]:
    """The options again, as a command line for another service (the node's backfiller)."""
    if args.insecure_peers:
        return ["--insecure-peers"]
    return ["--peer-ca", args.peer_ca] if args.peer_ca else []


def describe_refusal(exc: ssl.SSLCertVerificationError) -> str:
    """What a refused certificate means and what to do about it, for the log."""
    return (
        f"its certificate is not trusted ({exc.verify_message or exc}): give --peer-ca FILE "
        "with the CA that signed it, or --insecure-peers for a self-signed one"
    )
