"""Which names may become one component of a path under BASE.

A channel, a quality and a segment file name each become one path component,
whether they come from a command line, an HTTP request, a peer's listing or a
database row. A name is safe when it cannot climb (``..``), hide (a leading
``.``), split (``/``, ``\\``) or truncate (NUL) a path, is not empty, fits a
Linux file name (255 bytes: the UTF-8 bytes count, not the characters, so 255
``é`` are too long), and holds only printable characters (so a log line shows it as
it is). Printable non-ASCII letters are allowed: a channel may be called
``café``. Hour directories have their own exact form, :func:`is_hour_name`.
"""

from typing import TypeGuard

import fastseg

__all__ = [
    "MAX_NAME",
    "UnsafeName",
    "check_name",
    "is_hour_name",
    "is_safe_name",
    "name_problem",
]

MAX_NAME = 255  # the longest file name Linux filesystems allow, in bytes (NAME_MAX)


class UnsafeName(ValueError):
    """A name that cannot be one path component; the message shows it and why."""


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be one path component under BASE, or None if it can.

    The reason reads after the name, e.g. ``starts with '.': ...``.
    """
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not text"
    if not value:
        return "is empty"
    # isascii() is O(1) in CPython: only non-ASCII names pay for an encoding.
    if len(value) > MAX_NAME or (not value.isascii() and _utf8_size(value) > MAX_NAME):
        return f"is {_utf8_size(value)} bytes in UTF-8, over {MAX_NAME}: give a shorter name"
    if value.startswith("."):
        return "starts with '.': names starting with '.' are hidden"
    # NUL and other control characters are not printable; '/' and '\\' are.
    if value.isprintable() and "/" not in value and "\\" not in value:
        return None  # the common case in one pass of C, before looking for which is bad
    bad = next((c for c in value if c in "/\\" or not c.isprintable()), None)
    if bad is not None:
        return f"contains {bad!r}"
    return None


def _utf8_size(value: str) -> int:
    # surrogatepass: a lone surrogate is counted here and refused as unprintable after.
    return len(value.encode("utf-8", "surrogatepass"))


def is_safe_name(value: object) -> TypeGuard[str]:
    """True if ``value`` can be one path component under BASE."""
    return name_problem(value) is None


def check_name(value: str, what: str) -> str:
    """``value`` if it is safe, else :class:`UnsafeName` saying ``WHAT 'VALUE' REASON``."""
    problem = name_problem(value)
    if problem is not None:
        shown = f"{value[:40]!r}..." if isinstance(value, str) and len(value) > 40 else repr(value)
        raise UnsafeName(f"{what} {shown} {problem}")
    return value


def is_hour_name(value: object) -> TypeGuard[str]:
    """True if ``value`` is an hour directory name, ``YYYY-MM-DDTHH``."""
    return isinstance(value, str) and fastseg.hour_start(value) is not None
