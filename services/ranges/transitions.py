"""How two ranges of a clip join: a hard cut, or a fade or crossfade of some seconds.

Plain data with its JSON form (the events' ``video_transitions``), shared by the
database layer, the HTTP API and the cutting engine; nothing here runs ffmpeg.
"""

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TypedDict

#: Transition names (wubloader's) -> ffmpeg xfade transitions.
XFADE = {"fade": "fadeblack", "crossfade": "fade"}
#: The longest transition, in seconds: one ffmpeg re-encodes all of it, and a fade
#: between two moments of a stream lasts a second or two; a minute is already a
#: scene of its own (cut it as a range instead).
MAX_TRANSITION = 60.0


@dataclasses.dataclass(frozen=True)
class Transition:
    """How two ranges join: ``fade`` through black or ``crossfade``, over ``seconds``."""

    kind: str
    seconds: float

    def __post_init__(self) -> None:
        """Raises ValueError for an unknown type, or seconds not in (0, MAX_TRANSITION]."""
        if self.kind not in XFADE:
            raise ValueError(f"transition type {self.kind!r} is not one of {', '.join(XFADE)}")
        seconds: object = self.seconds  # whatever the caller gave, checked before use
        # Compared before any float() or timedelta: nan, inf and 10**400 must not get there.
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"transition seconds {seconds!r} is not a positive number")
        if not seconds > 0:
            raise ValueError(f"transition seconds {seconds!r} is not a positive number")
        if not seconds <= MAX_TRANSITION:
            shown = str(seconds) if isinstance(seconds, float) or seconds < 1e20 else "1e20+"
            raise ValueError(
                f"a {self.kind} of {shown} s is over the {MAX_TRANSITION:g} s a transition "
                "may last: shorten it"
            )
        object.__setattr__(self, "seconds", float(seconds))

    @classmethod
    def parse(cls, text: str, sep: str = ":") -> "Transition | None":
        """``fade:1.5`` (or with ``sep`` ``,``); ``none``/empty for a hard cut."""
        if text.strip().lower() in ("", "none", "null", "cut"):
            return None
        kind, found, seconds = text.partition(sep)
        if not found:
            raise ValueError(f"transition {text!r} is not TYPE{sep}SECONDS, like fade{sep}1")
        try:
            value = float(seconds)
        except ValueError:
            raise ValueError(f"transition {text!r}: {seconds!r} is not a number") from None
        return cls(kind.strip(), value)

    @property
    def delta(self) -> dt.timedelta:
        return dt.timedelta(microseconds=round(self.seconds * 1_000_000))


class TransitionJSON(TypedDict):
    """A join as the events' ``video_transitions`` hold it."""

    type: str
    seconds: float


def transitions_from_json(items: Sequence[object] | None) -> list[Transition | None] | None:
    """``[{"type": "fade", "seconds": 1}, null, ...]`` as Transitions (ValueError if bad)."""
    if items is None:
        return None
    if not isinstance(items, list | tuple):
        raise ValueError(f"video_transitions {items!r} is not a list of joins")
    result: list[Transition | None] = []
    for item in items:
        if item is None:
            result.append(None)
        elif isinstance(item, dict) and set(item) == {"type", "seconds"}:
            seconds = item["seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError(f"transition seconds {seconds!r} is not a number")
            result.append(Transition(item["type"], seconds))
        else:
            raise ValueError(f'transition {item!r} is not null or {{"type": TYPE, "seconds": N}}')
    return result


def transitions_to_json(transitions: Sequence[Transition | None]) -> list[TransitionJSON | None]:
    return [None if t is None else {"type": t.kind, "seconds": t.seconds} for t in transitions]
