"""Which of an origin's variants a channel records: names checked, their number capped.

A variant's name comes from the origin and becomes the ``QUALITY`` directory, so
it must pass the one safe-name rule (:mod:`services.archive.names`): a name that
could climb (``../..``), hide (``.fastseg``), be absolute or not fit a file name
is refused, and the rest of the master is recorded. With ``--qualities`` only
those are recorded; without, the origin's variants in the master's order, at
most :data:`MAX_QUALITIES` of them, so an origin listing hundreds of variants
cannot make a node record hundreds of streams.
"""

import dataclasses

from services.archive import names
from services.downloader.playlist import Variant

__all__ = ["MAX_QUALITIES", "Choice", "choose"]

#: The most qualities a channel records without ``--qualities`` (Twitch offers about 6).
MAX_QUALITIES = 16


@dataclasses.dataclass
class Choice:
    """What to record of a master playlist, and what was left out and why."""

    recording: list[Variant]  # in --qualities order, else in the master's order
    missing: list[str]  # asked for with --qualities, not offered
    refused: dict[str, tuple[str, str]]  # name -> (reason label, message for the log)


def choose(variants: list[Variant], wanted: list[str] | None, limit: int = MAX_QUALITIES) -> Choice:
    """The variants to record: the ``wanted`` ones if given, else the first ``limit`` safe ones."""
    safe: dict[str, Variant] = {}
    refused: dict[str, tuple[str, str]] = {}
    for variant in variants:
        try:
            names.check_name(variant.quality, "variant")
        except names.UnsafeName as exc:  # the message shows a long name shortened
            refused[variant.quality] = ("name", f"{exc}: it cannot be a directory under BASE")
        else:
            safe[variant.quality] = variant
    if wanted is not None:
        recording = [safe[q] for q in wanted if q in safe]
        missing = [q for q in wanted if q not in safe]
        return Choice(recording, missing, refused)
    recording = list(safe.values())
    for variant in recording[limit:]:
        refused[variant.quality] = (
            "limit",
            f"variant {variant.quality!r} is over the {limit} qualities a channel records "
            "without --qualities: name the ones to record with --qualities",
        )
    return Choice(recording[:limit], [], refused)
