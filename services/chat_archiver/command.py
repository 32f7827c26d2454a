"""``fastseg chat-archiver``: its options, and running one channel's archiver until stopped."""

import argparse
import dataclasses
import logging
import os
import sys

from services.archive.names import check_name
from services.chat_archiver.archiver import Archiver
from services.chat_archiver.irc import parse_url
from services.chat_archiver.metrics import ChatArchiverMetrics
from services.runtime import contract, service

logger = logging.getLogger(__name__)

DEFAULT_IRC = "ircs://irc.chat.twitch.tv:6697"


def _irc_url(text: str) -> str:
    try:
        parse_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _name(text: str) -> str:
    try:
        return check_name(text, "name")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_chat_arguments(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """The options the archiver and ``fastseg node --chat`` share."""
    parser.add_argument(
        f"--{prefix}irc", type=_irc_url, default=DEFAULT_IRC,
        help=f"chat server: ircs://HOST:PORT (TLS) or irc://HOST:PORT (default: {DEFAULT_IRC})",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}token-file", default=None,
        help="a file holding an OAuth token to log in with (default: anonymous justinfan login)",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}batch-lag", type=service.non_negative_seconds, default=60.0,
        help="write a minute's batch this many seconds after the minute ends, so that late "
             "messages still join it (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}merge-interval", type=service.positive_seconds, default=60.0,
        help="look for minutes with several files (recorded and backfilled) and merge them "
             "this often, in seconds (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        f"--{prefix}idle-timeout", type=service.positive_seconds, default=120.0,
        help="send a PING after this many quiet seconds, reconnect after as many more "
             "(default: 120)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = service.argument_parser(
        "chat-archiver",
        "Record a Twitch channel's chat to BASE/CHANNEL/chat/HOUR/MM:00-HASH.json "
        "(wubloader's format) and merge the copies other nodes' backfillers bring.",
    )
    parser.add_argument("--channel", required=True, type=_name, help="the Twitch channel")
    parser.add_argument(
        "--name", required=True, type=_name,
        help="this node's name, recorded as the receiver of each message",
    )  # fmt: skip
    add_chat_arguments(parser)
    return parser


def read_token(path: str | None) -> str | None:
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip() or None


@dataclasses.dataclass(frozen=True)
class Options:
    """The parsed arguments, checked, and the login token read from ``--token-file``."""

    args: argparse.Namespace
    base_dir: str
    token: str | None


def options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    base_dir = os.path.abspath(args.base_dir)
    if not os.path.isdir(base_dir):
        parser.error(f"--base-dir {args.base_dir!r} is not a directory: give the archive root")
    try:
        token = read_token(args.token_file)
    except OSError as exc:
        parser.error(f"--token-file {args.token_file!r} cannot be read ({exc.strerror})")
    return Options(args, base_dir, token)


def run(options: Options, stopping, registry) -> int:
    args = options.args
    archiver = Archiver(
        options.base_dir, args.channel, args.name, args.irc, token=options.token,
        lag=args.batch_lag, merge_interval=args.merge_interval, idle=args.idle_timeout,
        metrics=ChatArchiverMetrics.of(registry),
    )  # fmt: skip
    logger.info("recording #%s chat from %s into %r", args.channel, args.irc, archiver.chat_dir)
    archiver.run(stopping)
    logger.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    return contract.main(sys.modules[__name__], argv)
