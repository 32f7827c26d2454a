"""``fastseg demo`` (``make run``): watch a node record, serve and cut a stream.

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.demo`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.demo.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
