"""``fastseg downloader``: its options and run loop, recording live HLS channels to files.

One :class:`~services.downloader.worker.ChannelManager` per channel resolves its
master playlist through a provider (``hls``: a URL; ``twitch``: the channel name),
runs a worker per quality, and stores segments under ``BASE/CHANNEL/QUALITY/HOUR``
(docs/DESIGN.md#storage-format). On SIGTERM or SIGINT polling stops, downloads in flight get
``--stop-grace`` seconds to finish, and whatever is still running is cut off and
kept as ``partial`` (or removed if nothing arrived): no ``temp`` file is left.
"""

import argparse
import dataclasses
import logging
import os
import sys

import gevent
import gevent.event

from services.archive import names, times
from services.downloader.getter import Timeouts
from services.downloader.metrics import DownloaderMetrics
from services.downloader.providers import HLSProvider
from services.downloader.twitch import GQL_URL, USHER_URL, TwitchProvider
from services.downloader.variants import MAX_QUALITIES
from services.downloader.worker import BEHIND_AFTER, ChannelManager
from services.runtime import contract, service
from services.runtime.notices import Notifier, add_notify_arguments

#: Seconds between looks at how far behind each quality is.
BEHIND_CHECK = 5.0

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = service.argument_parser("downloader", "Record live HLS channels to segment files.")
    parser.add_argument(
        "channels", nargs="+", metavar="CHANNEL", help="channel name (directory under BASE)"
    )
    parser.add_argument(
        "--qualities",
        help="comma-separated qualities to record (default: the master playlist's, the "
        f"first {MAX_QUALITIES} whose names can be directories)",
    )
    parser.add_argument(
        "--provider", choices=["hls", "twitch"], default="hls",
        help="hls: master playlists at --url; twitch: resolve channels on Twitch (default: hls)",
    )  # fmt: skip
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        help="master playlist URL, once per CHANNEL in the same order "
        "(--provider hls; default: none)",
    )
    parser.add_argument(
        "--twitch-gql-url", default=GQL_URL,
        help="Twitch GQL endpoint, for tests (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--twitch-usher-url", default=USHER_URL,
        help="usher URL template with {channel}, for tests (default: %(default)s)",
    )  # fmt: skip
    timeouts = Timeouts()
    for name, help_ in [
        ("soft-timeout", "start another attempt of a segment not done after this long"),
        ("hard-timeout", "abandon a segment attempt after this long"),
        ("give-up-after", "stop retrying a segment after this long (its URL has surely expired)"),
    ]:
        default = getattr(timeouts, name.replace("-timeout", "").replace("-", "_"))
        parser.add_argument(
            f"--{name}",
            type=service.positive_seconds,
            default=default,
            help=f"{help_} (default: {default} s)",
        )
    parser.add_argument(
        "--stop-grace", type=service.positive_seconds, default=5.0,
        help="on SIGTERM, let downloads in flight finish for this long (default: 5 s)",
    )  # fmt: skip
    add_notify_arguments(
        parser, "a quality falls behind (and catches up) or misses segments",
    )  # fmt: skip
    parser.add_argument(
        "--notify-behind-after", type=service.positive_seconds, default=BEHIND_AFTER,
        metavar="SECONDS",
        help="a quality whose newest listed segment started longer ago than this is "
             "behind: a notice (default: %(default)s, the FastsegRecordingBehind alert's)",
    )  # fmt: skip
    return parser


@dataclasses.dataclass(frozen=True)
class Options:
    """What the downloader runs with, checked."""

    channels: list[str]
    base_dir: str
    qualities: list[str] | None  # None: the master playlist's
    provider: HLSProvider | TwitchProvider
    timeouts: Timeouts
    stop_grace: float
    args: argparse.Namespace  # the notices' options


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if len(set(args.channels)) != len(args.channels):
        parser.error(f"a channel is named twice in {args.channels!r}")
    for channel in args.channels:
        if not names.is_safe_name(channel):
            parser.error(f"channel {channel!r} cannot be a directory name under --base-dir")
    qualities = None
    if args.qualities is not None:
        qualities = [q.strip() for q in args.qualities.split(",") if q.strip()]
        if not qualities:
            parser.error(f"--qualities {args.qualities!r} names no quality")
        for quality in qualities:
            problem = names.name_problem(quality)
            if problem is not None:
                parser.error(f"--qualities: {quality[:40]!r} {problem}: it cannot be a directory")
    provider: HLSProvider | TwitchProvider
    if args.provider == "hls":
        if len(args.url) != len(args.channels):
            parser.error(
                f"--provider hls needs one --url per channel: {len(args.channels)} channel(s), "
                f"{len(args.url)} --url"
            )
        provider = HLSProvider(dict(zip(args.channels, args.url, strict=True)))
    else:
        if args.url:
            parser.error("--url is for --provider hls; --provider twitch finds playlists itself")
        provider = TwitchProvider(args.twitch_gql_url, args.twitch_usher_url)
    if args.hard_timeout < args.soft_timeout:
        parser.error(
            f"--hard-timeout {args.hard_timeout} is shorter than --soft-timeout {args.soft_timeout}"
        )
    timeouts = Timeouts(
        soft=args.soft_timeout, hard=args.hard_timeout, give_up_after=args.give_up_after
    )
    return Options(
        args.channels, os.path.abspath(args.base_dir), qualities, provider, timeouts,
        args.stop_grace, args,
    )  # fmt: skip


def run(options: Options, stopping: gevent.event.Event, registry) -> int:
    metrics = DownloaderMetrics.of(registry)
    notifier = Notifier.from_args(options.args, "downloader").start()
    managers = [
        ChannelManager(
            channel,
            options.provider,
            options.qualities,
            options.base_dir,
            options.timeouts,
            stopping,
            metrics,
            notifier,
        )  # fmt: skip
        for channel in options.channels
    ]
    running = [gevent.spawn(m.run) for m in managers]
    watching = gevent.spawn(_watch_behind, managers, stopping, options.args.notify_behind_after)
    logger.info("recording %s into %r", ", ".join(map(repr, options.channels)), options.base_dir)
    stopping.wait()

    gevent.joinall(running, timeout=options.stop_grace)
    for manager in managers:
        if not manager.getters.join(timeout=options.stop_grace):
            logger.warning(
                "channel %r: cutting off %d download(s) still running",
                manager.channel,
                sum(not g.ready() for g in manager.inflight.values()),
            )
        manager.getters.kill(block=True)
    gevent.killall(running, block=True)
    watching.kill()
    notifier.close()
    logger.info("stopped")
    return 0


def _watch_behind(managers: list[ChannelManager], stopping, after: float) -> None:
    """Every few seconds, each channel's notice of a quality falling behind or catching up."""
    while not stopping.wait(min(BEHIND_CHECK, after / 4)):
        now = times.utc_now()
        for manager in managers:
            manager.check_behind(now, after)


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)
