"""``fastseg cutter``: cut edited events out of the archive and upload them.

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.cutter`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.cutter.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
