"""Twitch's subset of IRC: parsing lines (with IRCv3 tags) and one bounded connection.

A connection reads lines of at most :data:`MAX_LINE_BYTES`; a longer one is
skipped up to its end and counted, as is a line that does not parse. Too many
refused lines in a row (:data:`MAX_REFUSED_IN_A_ROW`) mean the server is not
speaking IRC: the connection is dropped and the archiver reconnects with backoff.
"""

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import gevent

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_REFUSED_IN_A_ROW",
    "Connection",
    "NotIRC",
    "parse_line",
    "parse_url",
]

# Twitch allows 8191 bytes of tags plus a 512-byte message; twice that is room to spare.
MAX_LINE_BYTES = 16 * 1024
MAX_REFUSED_IN_A_ROW = 100
CAPABILITIES = "twitch.tv/tags twitch.tv/commands twitch.tv/membership"
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


class NotIRC(ConnectionError):
    """The server sent something that is not IRC too often: the connection is given up."""


def parse_url(url: str) -> tuple[str, int, bool]:
    """``(host, port, tls)`` of ``ircs://HOST[:6697]`` or ``irc://HOST[:6667]``, else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("irc", "ircs") or not parts.hostname:
        raise ValueError(f"{url!r} is not irc://HOST:PORT or ircs://HOST:PORT")
    tls = parts.scheme == "ircs"
    return parts.hostname, parts.port or (6697 if tls else 6667), tls


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            out.append(_UNESCAPE.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            if c != "\\":  # a lone trailing backslash is dropped, as IRCv3 says
                out.append(c)
            i += 1
    return "".join(out)


def parse_line(line: str) -> dict | None:
    """A message ``{command, params, tags, sender, user, host}``, or None if ``line`` is not IRC.

    Tags are a dict of unescaped strings ({} when the line has none); ``sender``,
    ``user`` and ``host`` come from the ``nick!user@host`` prefix (None when absent).
    """
    rest = line.strip("\r\n")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw, _, rest = rest[1:].partition(" ")
        for item in raw.split(";"):
            if item:
                key, _, value = item.partition("=")
                tags[key] = _unescape(value)
    sender = user = host = None
    rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        sender, _, host_part = prefix.partition("!")
        if host_part:
            user, _, host = host_part.partition("@")
            host = host or None
        elif "@" in sender:
            sender, _, host = sender.partition("@")
    rest = rest.lstrip(" ")
    trailing = None
    if " :" in rest:
        rest, _, trailing = rest.partition(" :")
    words = rest.split()
    if not words:
        return None
    command = words[0].upper()
    if not (command.isalpha() or (command.isdigit() and len(command) == 3)):
        return None
    params = words[1:] + ([trailing] if trailing is not None else [])
    return {
        "command": command,
        "params": params,
        "tags": tags,
        "sender": sender,
        "user": user,
        "host": host,
    }


class Connection:
    """One connection to a chat server: log in, join, then yield ``(message, received_at)``.

    ``on_refused(reason)`` is called for each line refused (``too_long``, ``not_utf8``,
    ``not_irc``). PINGs are answered here. When the server is quiet for
    ``idle`` seconds a PING is sent; quiet for ``idle`` more, the connection is dead.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        nick: str = "justinfan12345",
        token: str | None = None,
        idle: float = 120.0,
        connect_timeout: float = 15.0,
        on_refused: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.host, self.port, self.tls = parse_url(url)
        self.channel = channel
        self.nick = nick
        self.token = token
        self.idle = idle
        self.connect_timeout = connect_timeout
        self.on_refused = on_refused
        self.sock: socket.socket | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        sock.settimeout(self.idle)
        self.sock = sock
        self.send(f"CAP REQ :{CAPABILITIES}")
        if self.token:
            self.send(f"PASS oauth:{self.token.removeprefix('oauth:')}")
        self.send(f"NICK {self.nick}")
        self.send(f"JOIN #{self.channel}")

    def send(self, line: str) -> None:
        assert self.sock is not None
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _raw_lines(self) -> Iterator[bytes]:
        """Lines as bytes, each at most MAX_LINE_BYTES; a longer one is skipped and refused."""
        assert self.sock is not None
        buf = b""
        skipping = False
        pinged = False
        while True:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                if pinged:
                    quiet = 2 * self.idle
                    raise ConnectionError(f"no answer from the server in {quiet:g} s") from None
                pinged = True
                self.send("PING :fastseg")
                continue
            if not data:
                raise ConnectionError("the server closed the connection")
            pinged = False
            buf += data
            while True:
                end = buf.find(b"\n")
                if end < 0:
                    break
                line, buf = buf[:end], buf[end + 1 :]
                if skipping:
                    skipping = False
                    continue
                if len(line) > MAX_LINE_BYTES:
                    self.on_refused("too_long")
                    yield b""
                    continue
                yield line
            if len(buf) > MAX_LINE_BYTES:
                if not skipping:
                    self.on_refused("too_long")
                    yield b""
                skipping = True
                buf = b""
            gevent.idle()  # a fast server must not starve the writer and the merger

    def messages(self) -> Iterator[tuple[dict, float]]:
        """Parsed messages as they arrive, with the local time each was received."""
        refused = 0
        for raw in self._raw_lines():
            message = None
            if raw:
                try:
                    message = parse_line(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    self.on_refused("not_utf8")
                else:
                    if message is None and raw.strip():
                        self.on_refused("not_irc")
            if message is None:
                if raw.strip() or not raw:
                    refused += 1
                if refused > MAX_REFUSED_IN_A_ROW:
                    raise NotIRC(f"{refused} lines in a row were not IRC")
                continue
            refused = 0
            if message["command"] == "PING":
                self.send("PONG :" + (message["params"][-1] if message["params"] else ""))
                continue
            yield message, time.time()
