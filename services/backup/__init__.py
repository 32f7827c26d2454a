"""``fastseg db``: back up the database to a file, or restore it (docs/OPERATING.md).

The options are in ``command.py``; this package stays thin so that
``python -m services.backup`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.backup.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
