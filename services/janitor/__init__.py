"""``fastseg janitor``: keep what orphaned ``temp`` segments hold as ``partial`` ones.

See ``sweep.py`` for what is done to each file and ``command.py`` for the options.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    # Imported here, not above: ``python -m services.janitor`` imports this package
    # before __main__ can patch gevent, and prometheus_client imports ssl.
    from services.janitor.command import main as run  # noqa: PLC0415

    return run(argv)
