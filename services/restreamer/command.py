"""The restreamer: the HTTP face of a node (docs/DESIGN.md#http-api).

``fastseg restreamer --base-dir B [--host H] [--port P]`` serves segment
listings, segment files, HLS playlists for any range and ``/metrics`` from one
Flask app (:func:`services.restreamer.app.create_app`) on gevent's WSGI server,
and the editor's events API on ``--db`` (absent: the embedded cluster of
``--base-dir``; ``--no-db``: none). ``--clips-dir DIR`` serves DIR under
``/clips/``, so a local upload location's links open in a browser.
``--ffmpeg-jobs``, ``--ffmpeg-jobs-per-client``, ``--ffmpeg-memory-mb`` and
``--ffmpeg-timeout`` bound what cuts and pictures may cost (services.restreamer.jobs).
``--tls-cert FILE --tls-key FILE`` serve HTTPS instead, the pair read again when
it changes (services.restreamer.tls).
SIGTERM or SIGINT stops accepting, lets responses in flight finish for up to
``--stop-timeout`` seconds, kills the ffmpegs still running, and exits.
"""

import argparse
import dataclasses
import logging
import os
import sys

from services.runtime import contract, service

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main", "options", "run"]


def build_parser() -> argparse.ArgumentParser:
    from services.restreamer import editor  # noqa: PLC0415 - costly: not when fastseg lists it
    from services.restreamer.hls import DEFAULT_CACHE_BYTES  # noqa: PLC0415

    parser = service.argument_parser("restreamer", __doc__.splitlines()[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--stop-timeout",
        type=service.non_negative_seconds,
        default=30.0,
        help="seconds a stop signal waits for responses in flight (default: %(default)s)",
    )
    parser.add_argument(
        "--playlist-cache-mb", type=float, default=DEFAULT_CACHE_BYTES / 2**20, metavar="MIB",
        help="memory kept for rendered playlist hours, about 0.75 MiB per hour of 2-second "
             "segments (default: %(default)g)",
    )  # fmt: skip
    add_tls_arguments(parser)
    _add_client_limits(parser)
    _add_job_arguments(parser)
    editor.add_arguments(parser)  # --db, --no-db, --editor-token-file
    parser.add_argument(
        "--clips-dir",
        metavar="DIR",
        help="serve the files of DIR under /clips/ (a local upload location's directory)",
    )
    return parser


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed arguments, and the editor's part of the app config derived from them."""

    args: argparse.Namespace
    editor: dict
    tls: object  # a ServerTLS (services.restreamer.tls), None for HTTP


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    from services.restreamer import editor  # noqa: PLC0415

    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port!r} is not a TCP port (0-65535)")
    if args.stop_timeout < 0:
        parser.error(f"--stop-timeout {args.stop_timeout!r} is negative: give seconds >= 0")
    if not 0 <= args.playlist_cache_mb < 2**30:
        parser.error(
            f"--playlist-cache-mb {args.playlist_cache_mb!r} is out of range: give MiB >= 0"
        )
    for name in ("ffmpeg_jobs", "ffmpeg_jobs_per_client"):
        if getattr(args, name) < 1:
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} {getattr(args, name)!r} is below 1: give a count of jobs")
    if args.ffmpeg_memory_mb < 0:
        parser.error(f"--ffmpeg-memory-mb {args.ffmpeg_memory_mb!r} is negative: "
                     "give MiB, or 0 for no limit")  # fmt: skip
    if not os.path.isdir(args.base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    if args.clips_dir is not None and not os.path.isdir(args.clips_dir):
        parser.error(f"--clips-dir {args.clips_dir!r} is not a directory: create it first")
    for option in ("max_header_bytes", "max_connections", "max_connections_per_address"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} {getattr(args, option)!r} is below 1")
    return Options(args, editor.config_from_args(args, parser), tls_from_args(args, parser))


def run(options: Options, stopping, registry) -> int:
    """Serve until ``stopping`` is set; returns 0 if every response finished."""
    from services.db import EmbeddedPostgresError, database_dsn  # noqa: PLC0415

    args = options.args
    config = {**options.editor, "METRICS_REGISTRY": registry}
    if args.no_db:
        return _serve(args, config, stopping, options.tls)
    try:
        with database_dsn(args.db, args.base_dir) as dsn:
            return _serve(args, {**config, "DATABASE": dsn}, stopping, options.tls)
    except EmbeddedPostgresError as exc:
        logger.critical("%s: pass --db DSN, or --no-db to serve without events", exc)
        return 1


def add_tls_arguments(parser) -> None:
    """``--tls-cert`` and ``--tls-key`` (the restreamer's and the node's, which passes them on)."""
    parser.add_argument(
        "--tls-cert", metavar="FILE",
        help="serve HTTPS (TLS 1.2+) with this PEM certificate chain (e.g. certbot's "
             "fullchain.pem), read again when it changes; needs --tls-key (default: HTTP)",
    )  # fmt: skip
    parser.add_argument(
        "--tls-key", metavar="FILE", help="the PEM private key of --tls-cert (e.g. privkey.pem)"
    )


def tls_from_args(args, parser):
    """The ServerTLS asked for (services.restreamer.tls), None for HTTP; bad: usage error."""
    from services.restreamer.tls import ServerTLS, TLSError  # noqa: PLC0415

    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together: give both, or neither for HTTP")
    if args.tls_cert is None:
        return None
    try:
        return ServerTLS(args.tls_cert, args.tls_key)
    except TLSError as exc:
        parser.error(f"--tls-cert/--tls-key: {exc}")


def main(argv: list[str] | None = None) -> int:
    """Run the restreamer until SIGTERM/SIGINT; returns 0 if every response finished."""
    return contract.main(sys.modules[__name__], argv)


def _add_client_limits(parser) -> None:
    """What one HTTP client may take (services.restreamer.limits; docs/DESIGN.md#http-clients)."""
    from services.restreamer import limits  # noqa: PLC0415

    parser.add_argument(
        "--max-header-bytes", type=int, default=limits.HEADER_BYTES, metavar="BYTES",
        help="a request's line and headers together; more is a 431 (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--request-timeout", type=service.positive_seconds, default=limits.REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="from a request's first byte to the end of its headers, and for its body once "
             "read: slower is closed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--keepalive-timeout", type=service.positive_seconds, default=limits.KEEPALIVE_TIMEOUT,
        metavar="SECONDS",
        help="a connection waiting this long for its next request, or for its client to take "
             "more of a file, is closed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-connections-per-address", type=int, default=limits.PER_ADDRESS, metavar="N",
        help="open connections from one client address; more are refused (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-connections", type=int, default=limits.CONNECTIONS, metavar="N",
        help="open connections in all, lowered to fit the open-file limit; more are refused "
             "(default: %(default)s)",
    )  # fmt: skip


def _add_job_arguments(parser) -> None:
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--ffmpeg-jobs", type=int, default=cores, metavar="N",
        help="ffmpeg processes at once, for cuts, frames, thumbnails and waveforms "
             "together; a request beyond is refused with 503 (default: the cores, %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--ffmpeg-jobs-per-client", type=int, default=2, metavar="N",
        help="requests running ffmpeg at once for one client address; more are refused "
             "with 429 (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--ffmpeg-memory-mb",
        type=int,
        default=4096,
        metavar="MIB",
        help="address space of each ffmpeg (RLIMIT_AS); 0: no limit (default: %(default)s)",
    )
    parser.add_argument(
        "--ffmpeg-timeout", type=service.positive_seconds, default=7200.0, metavar="SECONDS",
        help="the longest any ffmpeg job may run; shorter jobs get less "
             "(default: %(default)s)",
    )  # fmt: skip


def _serve(args, config: dict, stopping, tls) -> int:
    from services.restreamer import editor  # noqa: PLC0415
    from services.restreamer.app import create_app  # noqa: PLC0415
    from services.restreamer.cut_encodings import encoders  # noqa: PLC0415
    from services.restreamer.jobs import JobLimits  # noqa: PLC0415
    from services.restreamer.limits import Limits  # noqa: PLC0415
    from services.restreamer.server import LoggingLogAdapter, Server  # noqa: PLC0415

    encoders()  # listed now: no request runs an ffmpeg outside the pool of jobs

    cache_bytes = int(args.playlist_cache_mb * 2**20)
    app = create_app(
        {
            "BASE_DIR": args.base_dir,
            "CLIPS_DIR": args.clips_dir,
            "PLAYLIST_CACHE_BYTES": cache_bytes,
            "JOB_LIMITS": JobLimits(
                jobs=args.ffmpeg_jobs,
                per_client=args.ffmpeg_jobs_per_client,
                memory_bytes=args.ffmpeg_memory_mb * 2**20 or None,
                timeout=args.ffmpeg_timeout,
            ),
            **config,
        }
    )
    # One access line per request is too much at INFO (peers fetch thousands of
    # segments an hour), so it is logged at DEBUG; /metrics counts requests anyway.
    access_logger = logging.getLogger("services.restreamer.access")
    access = None  # not even formatted unless wanted: it costs more than a segment's headers
    if access_logger.isEnabledFor(logging.DEBUG):
        access = LoggingLogAdapter(access_logger, logging.DEBUG)
    limits = Limits(
        header_bytes=args.max_header_bytes,
        request_timeout=args.request_timeout,
        keepalive_timeout=args.keepalive_timeout,
        per_address=args.max_connections_per_address,
        connections=args.max_connections,
    ).fitted(service.raise_fd_limit())
    server = Server(
        (args.host, args.port),
        app,
        direct=app.wsgi_app.respond,  # plain segment GETs skip WSGI (segments.FastPath)
        limits=limits,
        metrics=app.extensions["restreamer"].metrics,
        tls=tls,
        log=access,
        error_log=logging.getLogger("services.restreamer.errors"),
    )
    service.listen(server, "--port", "fastseg restreamer")
    scheme = "https" if tls else "http"
    logger.info("serving %r on %s://%s:%d/", args.base_dir, scheme, args.host, server.server_port)
    app.config["SELF_URL"] = self_url(args.host, server.server_port, scheme)
    stopping.wait()
    editor.close_streams(app)  # event streams never end by themselves
    finished = server.drain(args.stop_timeout)
    app.extensions["restreamer"].jobs.stop_all()  # what the drain left running
    return 0 if finished else 1


def self_url(host: str, port: int, scheme: str = "http") -> str:
    """Where this process reaches its own server (the team page's node without a table)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
