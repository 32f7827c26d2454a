"""``fastseg node``: every service of a node in one gevent process.

The downloader, restreamer, backfiller, cutter, janitor (and sheet sync, when
``--sheet-sync`` is given, and the chat archiver with ``--chat``) each run their
``run`` (services/runtime/contract.py) in a greenlet of this process, with options
their own parser builds from a command line this node derives from its own, one
stop event and one registry: one database (the embedded PostgreSQL unless ``--db``
is given) and one ``/metrics`` (the restreamer's port). Every service's options are
built before anything starts, so one it refuses is this node's usage error. A
service that crashes is logged and started again with backoff, without disturbing
the others; SIGTERM or SIGINT stops every service the way it stops on its own.
"""

import argparse
import importlib
import logging
import os
import socket
import sys
import tempfile
from typing import cast

from fastseg import peer_tls
from services.cli import COMMANDS
from services.restreamer.command import add_tls_arguments
from services.runtime import contract, service

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main", "options", "run", "service_argv"]


def build_parser() -> argparse.ArgumentParser:
    from services.db import add_db_argument  # noqa: PLC0415 - imported after patching
    from services.janitor.command import add_keep_hours_argument  # noqa: PLC0415
    from services.runtime.notices import FORMATS, webhook_url  # noqa: PLC0415

    parser = service.argument_parser("node", "Run every service of a node in one process.")
    parser.add_argument("--channel", required=True, help="the channel to record")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="the stream's HLS master playlist")
    source.add_argument("--twitch", action="store_true", help="record CHANNEL from Twitch")
    parser.add_argument("--qualities", help="record only these qualities (comma-separated)")
    add_db_argument(parser)
    parser.add_argument(
        "--peer", action="append", default=[], metavar="URL",
        help="a peer's restreamer to backfill from (default: the nodes table)",
    )  # fmt: skip
    parser.add_argument(
        "--trust-tombstones-from", action="append", default=[], metavar="NAME",
        help="copy this peer's tombstones (its name in the nodes table, or its URL); "
             "repeat for several (default: none: no peer can hide segments here)",
    )  # fmt: skip
    parser.add_argument(
        "--min-free-mb", type=int, default=None, metavar="MB",
        help="the backfiller stops while the disk has less free space than this, leaving it "
             "to the downloader (default: the backfiller's, 4096)",
    )  # fmt: skip
    parser.add_argument(
        "--location", action="append", default=[], metavar="NAME=BACKEND[:OPTIONS]",
        help="an upload location for the cutter; repeat for several "
             "(default: none, no cutter runs)",
    )  # fmt: skip
    parser.add_argument(
        "--sheet-sync", metavar="CONFIG.json",
        help="also sync events with a Google spreadsheet (see fastseg sheetsync --help)",
    )  # fmt: skip
    parser.add_argument(
        "--publishing", metavar="FILE",
        help="the team's publishing conventions for the editor page and the cutter: a JSON "
        "object with title_prefix, description_footer and tags (default: none)",
    )  # fmt: skip
    parser.add_argument(
        "--editor-token-file", metavar="FILE",
        help="'TOKEN EMAIL [ROLE,...]' lines: editors who may change events on the editor page "
        "(default: none, the page is read-only)",
    )  # fmt: skip
    parser.add_argument(
        "--clips-dir", metavar="DIR",
        help="serve DIR under /clips/ (a local location's directory, so its links open over "
        "http: give that location url=http://THIS-NODE:PORT/clips/)",
    )  # fmt: skip
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="restreamer address (default: %(default)s, this machine only; 0.0.0.0 for a node "
        "that other nodes backfill from and editors reach)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8000, help="restreamer port (default: 8000)")
    add_tls_arguments(parser)  # --tls-cert, --tls-key: the restreamer serves HTTPS
    peer_tls.add_arguments(parser)  # --peer-ca, --insecure-peers: for the backfiller
    parser.add_argument(
        "--advertise",
        help="this node's URL for peers (default: http://HOST:PORT, and "
        "http://HOSTNAME:PORT with --host 0.0.0.0; https:// with --tls-cert)",
    )
    parser.add_argument(
        "--name", default=socket.gethostname(), help="this node's name (default: %(default)s)"
    )
    parser.add_argument(
        "--recent-cutoff", type=service.non_negative_seconds, default=60.0, metavar="SECONDS",
        help="leave segments younger than this to the downloader, not the backfiller (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        "--backfill-interval", type=service.positive_seconds, default=60.0, metavar="SECONDS",
        help="seconds between backfill passes over a peer (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        "--chat", action="store_true",
        help="also record CHANNEL's Twitch chat (fastseg chat-archiver; default: no chat)",
    )  # fmt: skip
    parser.add_argument(
        "--chat-irc", metavar="URL",
        help="the chat server for --chat: ircs://HOST:PORT or irc://HOST:PORT "
             "(default: Twitch's, ircs://irc.chat.twitch.tv:6697)",
    )  # fmt: skip
    add_keep_hours_argument(parser, "; its backfiller stops fetching them")
    parser.add_argument(
        "--notify", action="append", default=[], type=webhook_url, metavar="URL",
        help="post a JSON notice to this webhook when a clip is DONE or an event fails "
             "(the cutter), recording falls behind or misses segments (the downloader), or a "
             "peer is unreachable (the backfiller); repeat for several (default: none)",
    )  # fmt: skip
    parser.add_argument(
        "--notify-format", choices=FORMATS, default="auto",
        help="the notices' body: discord, zulip, generic, or auto: by each URL "
             "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--notify-peer-down-after", type=service.positive_seconds, default=300.0,
        metavar="SECONDS",
        help="a peer none of whose backfill passes finished for this long is a notice "
             "(default: 300)",
    )  # fmt: skip
    return parser


def advertised_url(host: str, port: int, scheme: str = "http") -> str:
    """The URL peers are told: the address the restreamer listens on, or this machine's
    name when it listens on every address (a node on 127.0.0.1 is reachable only here)."""
    if host in ("0.0.0.0", "::", ""):
        return f"{scheme}://{socket.gethostname()}:{port}"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def service_argv(args, dsn: str, port: int) -> dict[str, list[str]]:
    """The command line each service gets: this node's settings, spelled its way."""
    common = ["--base-dir", args.base_dir, "--log-level", args.log_level]
    recorder = [args.channel, *common]
    if args.twitch:
        recorder += ["--provider", "twitch"]
    else:
        recorder += ["--provider", "hls", "--url", args.url]
    if args.qualities:
        recorder += ["--qualities", args.qualities]
    peers = [f"--node={url}" for url in args.peer] or ["--db", dsn]
    argv = {
        "downloader": recorder,
        "restreamer": [*common, "--host", args.host, "--port", str(port), "--db", dsn],
        "backfiller": [*common, "--channels", args.channel, *peers, "--localhost", args.name],
        "janitor": [*common, "--interval", "60"],
    }
    if args.editor_token_file:
        argv["restreamer"] += ["--editor-token-file", args.editor_token_file]
    if args.tls_cert or args.tls_key:
        argv["restreamer"] += ["--tls-cert", args.tls_cert, "--tls-key", args.tls_key]
    argv["backfiller"] += peer_tls.passed_on(args)
    if args.clips_dir:
        argv["restreamer"] += ["--clips-dir", args.clips_dir]
    if args.publishing:
        argv["restreamer"] += ["--publishing", args.publishing]
    argv["backfiller"] += ["--recent-cutoff", str(args.recent_cutoff)]
    argv["backfiller"] += ["--pass-interval", str(args.backfill_interval)]
    if args.qualities:
        argv["backfiller"] += ["--qualities", args.qualities]
    for name in args.trust_tombstones_from:
        argv["backfiller"] += ["--trust-tombstones-from", name]
    if args.min_free_mb is not None:
        argv["backfiller"] += ["--min-free-mb", str(args.min_free_mb)]
    if args.keep_hours is not None:
        argv["janitor"] += ["--keep-hours", str(args.keep_hours), "--db", dsn]
        argv["backfiller"] += ["--start", str(args.keep_hours)]
    if args.location:
        locations = [f"--location={loc}" for loc in args.location]
        argv["cutter"] = [*common, "--db", dsn, "--name", args.name, *locations]
        if args.publishing:
            argv["cutter"] += ["--publishing", args.publishing]
    if args.chat:
        argv["chat-archiver"] = [*common, "--channel", args.channel, "--name", args.name]
        if args.chat_irc:
            argv["chat-archiver"] += ["--irc", args.chat_irc]
    if args.sheet_sync:
        argv["sheetsync"] = [args.sheet_sync, *common, "--db", dsn]
    if args.notify:
        notify = [f"--notify={url}" for url in args.notify]
        notify += ["--notify-format", args.notify_format, "--notify-name", args.name]
        for name in ("downloader", "backfiller", "cutter"):
            if name in argv:
                argv[name] += notify
        argv["backfiller"] += ["--notify-peer-down-after", str(args.notify_peer_down_after)]
    return argv


def _service(name: str) -> contract.Service:
    if not COMMANDS[name].node:
        raise ValueError(f"{name!r} is not a service a node runs (services/cli.py)")
    return cast(contract.Service, importlib.import_module(f"{COMMANDS[name].module}.command"))


def service_options(args, dsn: str, port: int) -> dict:
    """Each service's options, built by its own parser and checks from :func:`service_argv`.

    Raises contract.Refused naming the service that refuses what it is given.
    """
    built = {}
    for name, argv in service_argv(args, dsn, port).items():
        try:
            built[name] = contract.parse_options(_service(name), argv)
        except contract.Refused as e:
            raise contract.Refused(f"the {name} refuses what these options give it: {e}") from e
    return built


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """The node's arguments, checked, and with them what each service would be given."""
    if not 0 < args.port <= 65535:
        parser.error(f"--port {args.port!r} is not a TCP port (1-65535)")
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        parser.error(f"--url {args.url!r} is not an http(s) URL of a master playlist")
    if args.sheet_sync and not os.path.isfile(args.sheet_sync):
        parser.error(f"--sheet-sync {args.sheet_sync!r} is not a file: give the sync's settings")
    # Before anything starts: the database is not running yet (any DSN parses the same
    # way), and BASE and --clips-dir, which run() makes, do not exist yet: an empty
    # directory stands in for them.
    with tempfile.TemporaryDirectory(prefix="fastseg-node-check-") as stand_in:
        made = argparse.Namespace(**{
            **vars(args), "base_dir": stand_in, "clips_dir": args.clips_dir and stand_in,
        })  # fmt: skip
        try:
            service_options(made, "host=placeholder", args.port)
        except contract.Refused as e:
            parser.error(str(e))
    return args


def run(options: argparse.Namespace, stopping, registry) -> int:
    """Run every service until ``stopping`` is set; 0 once all stopped, 1 if some did not."""
    import gevent  # noqa: PLC0415 - after the CLI patched the standard library

    from services.db import Database, apply_schema, database_dsn  # noqa: PLC0415
    from services.node.supervisor import Supervisor  # noqa: PLC0415

    args = options
    os.makedirs(args.base_dir, exist_ok=True)
    if args.clips_dir:
        os.makedirs(args.clips_dir, exist_ok=True)
    with database_dsn(args.db, args.base_dir) as dsn:
        scheme = "https" if args.tls_cert else "http"
        url = args.advertise or advertised_url(args.host, args.port, scheme)
        db = Database(dsn, application_name=f"fastseg-node-{args.name}", actor=f"node:{args.name}")
        try:
            apply_schema(db)
            db.query(  # so that peers sharing the database backfill from us
                "INSERT INTO nodes (name, url, backfill_from) VALUES (%s, %s, TRUE)"
                " ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url",
                (args.name, url),
            )
        finally:
            db.close()
        try:  # checked before anything started: only a changed disk can refuse them now
            services = service_options(args, dsn, args.port)
        except contract.Refused as e:
            logger.error("node not started: %s", e)
            return 2
        logger.info("node %r (%s): services share the database and /metrics on port %d",
                    args.name, url, args.port)  # fmt: skip
        supervisor = Supervisor(stopping, registry)
        for name, service_options_ in services.items():
            supervisor.start(name, _service(name).run, service_options_)
        stopping.wait()
        clean = supervisor.join(timeout=60)
        gevent.sleep(0)
    logger.info("node stopped")
    return 0 if clean else 1


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)
