"""``fastseg events``: operator commands for the events table (docs/DESIGN.md#state-machine).

The options and the run loop are in ``command.py``; this package stays thin so that
``python -m services.events`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.events.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
