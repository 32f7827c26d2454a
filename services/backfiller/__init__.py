"""``fastseg backfiller``: fetch the segments that peers have and this node lacks.

See ``command.py`` for the options and the run loop, ``peers.py`` for where peers
come from, ``listing.py`` for what counts as missing, ``fetch.py`` for how one
segment is fetched and verified, and ``worker.py`` for the per-peer passes.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    # Imported here, not above: ``python -m services.backfiller`` imports this package
    # before __main__ can patch gevent, and prometheus_client imports ssl.
    from services.backfiller.command import main as run  # noqa: PLC0415

    return run(argv)
