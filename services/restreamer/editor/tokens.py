"""Editors' bearer tokens: a file of ``TOKEN EMAIL [ROLE,...]`` lines, re-read when it changes.

One line per editor; blank lines and lines starting with ``#`` are skipped. A
token is a secret of at least :data:`MIN_TOKEN` characters (``openssl rand -hex
16`` makes one); the email is what the events table records as ``editor``. The
optional third column names roles, comma-separated, from :data:`ROLES`: every
token is an ``editor``; ``artist`` is for templates; ``admin`` may also do what
could orphan an upload, and implies every role (:mod:`.roles` checks them). The
file is re-read when its modification time or size changes, so an operator can
add an editor during the marathon without restarting the restreamer; a file
that stops parsing is logged and the tokens read before stay in force.
"""

import dataclasses
import hmac
import logging
import os

logger = logging.getLogger(__name__)

__all__ = ["ADMIN", "ARTIST", "EDITOR", "MIN_TOKEN", "ROLES", "Editor", "TokenFile",
           "TokenFileError"]  # fmt: skip

MIN_TOKEN = 16  # characters: short tokens are guessable over HTTP
EDITOR, ARTIST, ADMIN = "editor", "artist", "admin"
ROLES = (EDITOR, ARTIST, ADMIN)


class TokenFileError(ValueError):
    """The token file cannot be read or a line is not ``TOKEN EMAIL [ROLE,...]``."""


@dataclasses.dataclass(frozen=True)
class Editor:
    """Whose token came with a request, and what they may do."""

    email: str
    roles: frozenset[str] = frozenset({EDITOR})

    def has(self, role: str) -> bool:
        """Whether this editor holds ``role``; ``admin`` implies every role."""
        return role in self.roles or ADMIN in self.roles


def _roles(column: str, where: str) -> frozenset[str]:
    roles = {EDITOR}
    for role in column.split(","):
        role = role.strip()
        if role and role not in ROLES:
            raise TokenFileError(
                f"{where}: role {role[:40]!r} is not one of {', '.join(ROLES)}: "
                "write them comma-separated, e.g. 'TOKEN EMAIL editor,admin'"
            )
        if role:
            roles.add(role)
    return frozenset(roles)


def parse_tokens(text: str, path: str) -> dict[str, Editor]:
    """token -> Editor from the file's text; TokenFileError names the bad line (never the token)."""
    tokens: dict[str, Editor] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) not in (2, 3):
            raise TokenFileError(
                f"{path}:{number}: expected 'TOKEN EMAIL [ROLE,...]', got {len(fields)} fields: "
                "one editor per line, token first, roles comma-separated without spaces"
            )
        token, email = fields[:2]
        if "@" in token and "@" not in email:
            raise TokenFileError(
                f"{path}:{number}: {token!r} looks like the email and comes first: "
                "write 'TOKEN EMAIL', token first"
            )
        if len(token) < MIN_TOKEN:
            raise TokenFileError(
                f"{path}:{number}: the token for {email!r} is {len(token)} characters, "
                f"fewer than {MIN_TOKEN}: make a random one, e.g. with 'openssl rand -hex 16'"
            )
        if token in tokens:
            raise TokenFileError(
                f"{path}:{number}: the token for {email!r} is also {tokens[token].email!r}'s: "
                "give each editor their own"
            )
        roles = _roles(fields[2], f"{path}:{number}") if len(fields) == 3 else frozenset({EDITOR})
        tokens[token] = Editor(email, roles)
    return tokens


class TokenFile:
    """The tokens of one file. Raises TokenFileError at construction if it is unusable."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._tokens: dict[str, Editor] = {}
        self._load()

    def _read(self) -> tuple[tuple[int, int], str]:
        try:
            with open(self.path, encoding="utf-8") as f:
                st = os.fstat(f.fileno())
                return (st.st_mtime_ns, st.st_size), f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"cannot read editor token file {self.path!r}: {exc}") from exc

    def _load(self) -> None:
        stamp, text = self._read()
        self._tokens = parse_tokens(text, self.path)
        self._stamp = stamp
        logger.info("editor tokens: %d editors from %r", len(self._tokens), self.path)

    def _refresh(self) -> None:
        try:
            st = os.stat(self.path)
            if (st.st_mtime_ns, st.st_size) == self._stamp:
                return
            self._load()
        except (OSError, TokenFileError) as exc:
            # Keep the editors we had: a half-saved file must not lock everyone out.
            logger.error("editor token file not reloaded, keeping the old tokens: %s", exc)

    def editor_for(self, token: str) -> Editor | None:
        """The editor whose token this is (their email and roles), or None."""
        self._refresh()
        found = None
        given = token.encode()
        # Compare against every token in constant time, so timing reveals nothing.
        for known, editor in self._tokens.items():
            if hmac.compare_digest(known.encode(), given):
                found = editor
        return found
