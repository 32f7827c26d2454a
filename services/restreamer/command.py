"""The restreamer: the HTTP face of a node (DESIGN.md §4).

``fastseg restreamer --base-dir B [--host H] [--port P]`` serves segment
listings, segment files, HLS playlists for any range and ``/metrics`` from one
Flask app (:func:`services.restreamer.app.create_app`) on gevent's WSGI server.
SIGTERM or SIGINT stops accepting, lets responses in flight finish for up to
``--stop-timeout`` seconds, and exits.
"""

import logging
import os

from services.common import service

logger = logging.getLogger(__name__)

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the restreamer until SIGTERM/SIGINT; returns 0 if every response finished."""
    # Imported here so that importing the package (fastseg's CLI lists it) costs nothing.
    from services.restreamer import editor  # noqa: PLC0415
    from services.restreamer.app import create_app  # noqa: PLC0415
    from services.restreamer.hls import DEFAULT_CACHE_BYTES  # noqa: PLC0415
    from services.restreamer.server import LoggingLogAdapter, Server  # noqa: PLC0415

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
    editor.add_arguments(parser)  # --db, --editor-token-file
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port!r} is not a TCP port (0-65535)")
    if args.stop_timeout < 0:
        parser.error(f"--stop-timeout {args.stop_timeout!r} is negative: give seconds >= 0")
    if not 0 <= args.playlist_cache_mb < 2**30:
        parser.error(
            f"--playlist-cache-mb {args.playlist_cache_mb!r} is out of range: give MiB >= 0"
        )
    if not os.path.isdir(args.base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    editor_config = editor.config_from_args(args, parser)
    service.setup(args)
    stopping = service.stop_on_signals()

    cache_bytes = int(args.playlist_cache_mb * 2**20)
    app = create_app(
        {"BASE_DIR": args.base_dir, "PLAYLIST_CACHE_BYTES": cache_bytes, **editor_config}
    )
    # One access line per request is too much at INFO (peers fetch thousands of
    # segments an hour), so it is logged at DEBUG; /metrics counts requests anyway.
    access_logger = logging.getLogger("services.restreamer.access")
    access = None  # not even formatted unless wanted: it costs more than a segment's headers
    if access_logger.isEnabledFor(logging.DEBUG):
        access = LoggingLogAdapter(access_logger, logging.DEBUG)
    server = Server(
        (args.host, args.port),
        app,
        log=access,
        error_log=logging.getLogger("services.restreamer.errors"),
    )
    server.start()
    logger.info("serving %r on http://%s:%d/", args.base_dir, args.host, server.server_port)
    stopping.wait()
    return 0 if server.drain(args.stop_timeout) else 1
