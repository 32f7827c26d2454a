"""``fastseg chat-archiver``: record a Twitch channel's chat into minute batches and merge copies.

See ``archiver.py`` for recording and merging, ``irc.py`` for the protocol, and
:mod:`services.archive.chat` for the on-disk format shared with wubloader.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    # Imported here, not above: ``python -m services.chat_archiver`` imports this package
    # before __main__ can patch gevent, and prometheus_client imports ssl.
    from services.chat_archiver.command import main as run  # noqa: PLC0415

    return run(argv)
