"""What is published for an event: the team's conventions added to the editor's own text.

The events table keeps what the editor wrote (the title, the description with
its chapter lines, the tags); the additions are composed here, once, by the
edit checks (to count them) and by the cutter (to upload them), so an editor
re-opening an event sees their own text and never the additions twice. The
conventions come from ``--publishing FILE``, a JSON object with
``title_prefix``, ``description_footer`` and ``tags`` (default tags added to
every video). YouTube's limits (docs/DESIGN.md#publishing) are checked on the
composed text; nothing is ever cut off at upload.
"""

import argparse
import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_DESCRIPTION_BYTES",
    "MAX_TAGS",
    "MAX_TITLE",
    "Conventions",
    "Published",
    "add_publishing_argument",
    "check_published",
    "compose",
    "load_conventions",
    "merged_tags",
    "tags_length",
]

MAX_TITLE = 100  # characters: YouTube's snippet.title
MAX_DESCRIPTION_BYTES = 5000  # YouTube's snippet.description is 5,000 bytes of UTF-8
MAX_TAGS = 500  # characters of snippet.tags, counted as tags_length does
FORBIDDEN = "<>"  # YouTube refuses either in a title or a description
CREDIT = "Thumbnail art by "  # the credit line a thumbnail template's attribution gets


@dataclasses.dataclass(frozen=True)
class Conventions:
    """A team's conventions: none by default."""

    title_prefix: str = ""
    description_footer: str = ""
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Published:
    """What a location is given: the composed title, description and tags."""

    title: str
    description: str
    tags: tuple[str, ...]


def load_conventions(path: str) -> Conventions:
    """The conventions in a JSON file; ValueError says what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the publishing conventions {path!r}: {e}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path!r} is not a JSON object of title_prefix, description_footer, tags")
    unknown = sorted(set(raw) - {"title_prefix", "description_footer", "tags"})
    if unknown:
        raise ValueError(
            f"{path!r}: unknown keys {unknown!r}; expected title_prefix, description_footer, tags"
        )
    for key in ("title_prefix", "description_footer"):
        if not isinstance(raw.get(key, ""), str):
            raise ValueError(f"{path!r}: {key} {raw[key]!r} is not a string")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise ValueError(f"{path!r}: tags {tags!r} is not a list of non-empty strings")
    conventions = Conventions(
        raw.get("title_prefix", ""), raw.get("description_footer", ""), tuple(tags)
    )
    # The additions alone must leave room for an editor's text.
    problems = check_published(compose(conventions, "x", "", ()))
    if problems:
        raise ValueError(f"{path!r}: {problems[0]}")
    return conventions


def _argument(path: str) -> Conventions:
    try:
        return load_conventions(path)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_publishing_argument(parser: argparse.ArgumentParser, **kwargs: Any) -> None:
    """``--publishing FILE``: the team's conventions (none without it)."""
    parser.add_argument(
        "--publishing",
        type=_argument,
        default=Conventions(),
        metavar="FILE",
        help="the team's publishing conventions: a JSON object with title_prefix, "
        "description_footer and tags (default tags of every video) (default: none)",
        **kwargs,
    )


def merged_tags(*groups: Sequence[str]) -> tuple[str, ...]:
    """The tags of every group in order, each once (YouTube's tags ignore case)."""
    seen: set[str] = set()
    out = []
    for group in groups:
        for tag in group:
            tag = tag.strip()
            if tag and tag.lower() not in seen:
                seen.add(tag.lower())
                out.append(tag)
    return tuple(out)


def compose(
    conventions: Conventions,
    title: str,
    description: str,
    tags: Sequence[str] | None,
    *,
    playlist_lines: Sequence[str] = (),
    thumbnail_attribution: str | None = None,
) -> Published:
    """The published title, description and tags of an event's stored inputs.

    ``description`` is as stored (the editor's text and any chapter lines).
    Below it, after a blank line: ``playlist_lines`` (the playlists the video
    is in: none are known yet), the thumbnail credit (``thumbnail_attribution``
    of the event's template) and the footer.
    """
    additions = [*playlist_lines]
    if thumbnail_attribution:
        additions.append(CREDIT + thumbnail_attribution)
    if conventions.description_footer:
        additions.append(conventions.description_footer)
    if additions:
        description = "\n\n".join(filter(None, (description, "\n".join(additions))))
    return Published(
        conventions.title_prefix + title,
        description,
        merged_tags(tags or (), conventions.tags),
    )


def tags_length(tags: Sequence[str]) -> int:
    """Characters YouTube counts of a tag list: each tag, a comma between two, and two
    quotation marks around a tag with a space (YouTube quotes those)."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def check_published(published: Published) -> list[str]:
    """Every YouTube rule the composed metadata breaks, each one sentence (none: [])."""
    problems = []
    if len(published.title) > MAX_TITLE:
        problems.append(
            f"the title is {len(published.title)} characters with the prefix, over YouTube's "
            f"{MAX_TITLE}: shorten it by {len(published.title) - MAX_TITLE}"
        )
    size = len(published.description.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(
            f"the description is {size} bytes with the chapters, credit and footer, over "
            f"YouTube's {MAX_DESCRIPTION_BYTES}: shorten it by {size - MAX_DESCRIPTION_BYTES}"
        )
    for what, text in (("title", published.title), ("description", published.description)):
        bad = sorted({c for c in text if c in FORBIDDEN})
        if bad:
            problems.append(
                f"the {what} contains {' and '.join(map(repr, bad))}, which YouTube refuses: "
                "remove it"
            )
    length = tags_length(published.tags)
    if length > MAX_TAGS:
        problems.append(
            f"the tags (with the default tags) are {length} characters as YouTube counts them, "
            f"over its {MAX_TAGS}: remove some"
        )
    return problems
