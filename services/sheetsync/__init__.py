"""``fastseg sheetsync``: events to and from a team's Google spreadsheet.

The options and the run loop are in ``command.py``, the sync in ``sync.py``;
this package stays thin so that ``python -m services.sheetsync`` can patch
gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.sheetsync.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
