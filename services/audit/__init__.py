"""``fastseg audit``: every change the audit trail recorded since a time (docs/DESIGN.md).

The options are in ``command.py``; this package stays thin so that
``python -m services.audit`` can patch gevent before anything imports ssl.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from services.audit.command import main as run  # noqa: PLC0415 - after gevent patched

    return run(argv)
