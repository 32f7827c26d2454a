"""``fastseg downloader``: record every quality of live HLS channels to segment files.

See ``command.py`` for the options and the stop sequence, ``worker.py`` for playlist
polling, ``getter.py`` for fetching and storing segments, ``providers.py`` and
``twitch.py`` for where playlists come from.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    # Imported here, not above: ``python -m services.downloader`` imports this package
    # before __main__ can patch gevent, and requests/prometheus_client import ssl.
    from services.downloader.command import main as run  # noqa: PLC0415

    return run(argv)
