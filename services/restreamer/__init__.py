"""The restreamer: the HTTP face of a node (docs/DESIGN.md#http-api).

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.restreamer`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.restreamer.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
