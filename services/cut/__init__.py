"""``fastseg cut``: cut one clip from the archive to a file (docs/DESIGN.md#cut-methods).

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.cut`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.cut.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
