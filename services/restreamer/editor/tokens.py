"""Editors' bearer tokens: a file of ``TOKEN EMAIL`` lines, re-read when it changes.

One line per editor; blank lines and lines starting with ``#`` are skipped. A
token is a secret of at least :data:`MIN_TOKEN` characters (``openssl rand -hex
16`` makes one); the email is what the events table records as ``editor``. The
file is re-read when its modification time or size changes, so an operator can
add an editor during the marathon without restarting the restreamer; a file
that stops parsing is logged and the tokens read before stay in force.
"""

import hmac
import logging
import os

logger = logging.getLogger(__name__)

__all__ = ["MIN_TOKEN", "TokenFile", "TokenFileError"]

MIN_TOKEN = 16  # characters: short tokens are guessable over HTTP


class TokenFileError(ValueError):
    """The token file cannot be read or a line is not ``TOKEN EMAIL``."""


def parse_tokens(text: str, path: str) -> dict[str, str]:
    """token -> email from the file's text; TokenFileError names the bad line (never the token)."""
    tokens: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        # TODO(merge): the origin lane parses the third column (roles); read only for admin here.
        if len(fields) not in (2, 3):
            raise TokenFileError(
                f"{path}:{number}: expected 'TOKEN EMAIL [admin]', got {len(fields)} fields: "
                "one editor per line, token first"
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
                f"{path}:{number}: the token for {email!r} is also {tokens[token]!r}'s: "
                "give each editor their own"
            )
        tokens[token] = email
    return tokens


class TokenFile:
    """The tokens of one file. Raises TokenFileError at construction if it is unusable."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._tokens: dict[str, str] = {}
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

    def editor_for(self, token: str) -> str | None:
        """The email of the editor whose token this is, or None."""
        self._refresh()
        found = None
        given = token.encode()
        # Compare against every token in constant time, so timing reveals nothing.
        for known, email in self._tokens.items():
            if hmac.compare_digest(known.encode(), given):
                found = email
        return found
