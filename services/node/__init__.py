"""``fastseg node``: every service of a node in one gevent process.

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.node`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.node.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
