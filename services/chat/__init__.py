"""``fastseg chat``: what the recorded chat says (``moments``: where it got busy).

The options and the work are in ``command.py``; this package stays thin so that
``python -m services.chat`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.chat.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
