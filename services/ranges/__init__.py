"""The range model: the ranges of a clip and the transitions joining them.

Below the database layer and the cutting engine, which both use it; imports no
ffmpeg code, so validating an edit loads nothing of the engine.
See docs/DESIGN.md#clips-of-several-ranges.
"""

from services.ranges.checks import as_pairs, check_range, check_ranges
from services.ranges.transitions import (
    MAX_TRANSITION,
    XFADE,
    Transition,
    transitions_from_json,
    transitions_to_json,
)

__all__ = [
    "MAX_TRANSITION",
    "XFADE",
    "Transition",
    "as_pairs",
    "check_range",
    "check_ranges",
    "transitions_from_json",
    "transitions_to_json",
]
