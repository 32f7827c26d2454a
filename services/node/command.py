"""``fastseg node``: every service of a node in one gevent process.

The downloader, restreamer, backfiller, cutter, janitor (and sheet sync, when
``--sheet-sync`` is given, and the chat archiver with ``--chat``) each run their own
``main`` in a greenlet of this process, given the arguments this command
derives from its own, and share one database (the embedded PostgreSQL unless
``--db`` is given) and one ``/metrics`` (the restreamer's port). A service that
crashes is logged and started again with backoff, without disturbing the
others; SIGTERM or SIGINT stops every service the way it stops on its own.
"""

import importlib
import logging
import os
import socket

from fastseg import peer_tls
from services.restreamer.command import add_tls_arguments, tls_from_args
from services.runtime import service

logger = logging.getLogger(__name__)

__all__ = ["main"]


def build_parser():
    from services.db import add_db_argument  # noqa: PLC0415 - imported after patching
    from services.janitor.command import keep_hours  # noqa: PLC0415
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
    parser.add_argument(
        "--keep-hours", type=keep_hours, default=None, metavar="N",
        help="retire hours that ended more than N hours ago (the janitor deletes them unless "
             "an event not DONE needs them; the backfiller stops fetching them) "
             "(default: keep every hour)",
    )  # fmt: skip
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


class _Refused(Exception):
    pass


def _refuse(message: str):
    raise _Refused(message)


def check_service_options(parser, args) -> None:
    """Parse what each service will be given with that service's own parser, before starting.

    A value the node's parser let through but a service refuses would otherwise make
    that service exit inside the running node; here it is the node's usage error.
    """
    from services.node.supervisor import MODULES  # noqa: PLC0415

    # The database is not running yet: any DSN parses the same way.
    for name, argv in service_argv(args, "host=placeholder", args.port).items():
        build = getattr(importlib.import_module(f"{MODULES[name]}.command"), "build_parser", None)
        if build is None:  # it parses nothing the node's own parser has not checked
            continue
        service_parser = build()
        service_parser.error = _refuse
        try:
            service_parser.parse_args(argv)
        except _Refused as e:
            parser.error(f"the {name} refuses what these options give it: {e}")


def main(argv: list[str] | None = None) -> int:
    import gevent  # noqa: PLC0415 - after the CLI patched the standard library
    import prometheus_client  # noqa: PLC0415

    from services.db import Database, apply_schema, database_dsn  # noqa: PLC0415
    from services.node.supervisor import NodeMetrics, Supervisor  # noqa: PLC0415
    from services.restreamer.editor.tokens import TokenFile, TokenFileError  # noqa: PLC0415

    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.port <= 65535:
        parser.error(f"--port {args.port!r} is not a TCP port (1-65535)")
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        parser.error(f"--url {args.url!r} is not an http(s) URL of a master playlist")
    if args.sheet_sync and not os.path.isfile(args.sheet_sync):
        parser.error(f"--sheet-sync {args.sheet_sync!r} is not a file: give the sync's settings")
    if args.editor_token_file:
        try:  # refused here, once, rather than by a restreamer restarted for ever
            TokenFile(args.editor_token_file)
        except TokenFileError as exc:
            parser.error(str(exc))
    tls_from_args(args, parser)  # a bad pair refused here, not by a restreamer restarted for ever
    if args.peer_ca:
        try:
            peer_tls.client_context(args.peer_ca)
        except (OSError, ValueError) as exc:
            parser.error(f"--peer-ca {args.peer_ca!r} is not a readable PEM file of CA "
                         f"certificates ({exc})")  # fmt: skip
    check_service_options(parser, args)
    os.makedirs(args.base_dir, exist_ok=True)
    if args.clips_dir:
        os.makedirs(args.clips_dir, exist_ok=True)
    service.setup(args)
    # The node owns the sampler: the services it runs must not start another one.
    os.environ.pop("FASTSEG_STACK_SAMPLER", None)
    stopping = service.stop_on_signals()
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
        logger.info("node %r (%s): services share the database and /metrics on port %d",
                    args.name, url, args.port)  # fmt: skip
        supervisor = Supervisor(stopping, NodeMetrics.of(prometheus_client.REGISTRY))
        for name, service_args in service_argv(args, dsn, args.port).items():
            supervisor.start(name, service_args)
        stopping.wait()
        clean = supervisor.join(timeout=60)
        gevent.sleep(0)
    if supervisor.fatal:
        logger.error("node stopped: the %s cannot run with these options", supervisor.fatal)
        return 2
    logger.info("node stopped")
    return 0 if clean else 1
