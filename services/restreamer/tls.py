"""HTTPS for the restreamer: a certificate and key read again when their files change.

``--tls-cert FILE --tls-key FILE`` serve HTTPS (TLS 1.2 and later only). A
certificate renewed in place (certbot writes new files and moves its ``live/``
links) is taken without a restart: :meth:`ServerTLS.context` is asked for each
new connection and looks at the files' modification times at most once a
second, so a connection made after the renewal gets the new certificate while
those already open keep theirs. A pair that does not load at start is a
:class:`TLSError` (the command's usage error); a replacement that does not load
(a key that does not match, a half-written file) is logged at WARNING and the
pair loaded before stays in use until the files change again.
"""

import logging
import os
import ssl
import time

from gevent import ssl as gevent_ssl

logger = logging.getLogger(__name__)

__all__ = ["CHECK_EVERY", "ServerTLS", "TLSError", "server_context"]

CHECK_EVERY = 1.0  # seconds between looks at the files' modification times


class TLSError(ValueError):
    """The certificate or key cannot be read, or they are not a pair."""


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context of ``cert`` (the chain, PEM) and ``key``, TLS 1.2 at least.

    The context is gevent's, so that its sockets wait in the event loop.
    """
    context = gevent_ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TLSError(f"{exc.filename!r} does not exist") from exc
    except PermissionError as exc:
        raise TLSError(f"{exc.filename!r} cannot be read by this user ({os.getuid()})") from exc
    except IsADirectoryError as exc:
        raise TLSError(f"{exc.filename!r} is a directory, not a PEM file") from exc
    except ssl.SSLError as exc:
        raise TLSError(
            f"{cert!r} and {key!r} are not a PEM certificate and its private key "
            f"({exc.reason or exc}): give the full chain and the key that signs it"
        ) from exc
    return context


def _stamp(path: str) -> tuple[int, int, int]:
    """What changes when a file is replaced: its inode, size and modification time."""
    st = os.stat(path)  # follows links, as certbot's live/ ones
    return st.st_ino, st.st_size, st.st_mtime_ns


class ServerTLS:
    """The current server context of a certificate and key, reloaded when they change."""

    def __init__(self, cert: str, key: str) -> None:
        """Load the pair now; TLSError says what is wrong with it."""
        self.cert, self.key = cert, key
        self._stamps = self._read_stamps()
        self._context = server_context(cert, key)
        self._checked = time.monotonic()
        self.loads = 1  # pairs loaded, the first included

    def _read_stamps(self) -> tuple | None:
        try:
            return _stamp(self.cert), _stamp(self.key)
        except OSError:
            return None  # missing for a moment while being replaced: try again later

    def context(self) -> ssl.SSLContext:
        """The context for a new connection, the files looked at if a second has passed."""
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY:
            self._checked = now
            self.reload_if_changed()
        return self._context

    def reload_if_changed(self) -> bool:
        """Load the pair again if either file changed; True if a new pair is in use."""
        stamps = self._read_stamps()
        if stamps is None or stamps == self._stamps:
            return False
        self._stamps = stamps  # a bad pair is reported once, not at every connection
        try:
            context = server_context(self.cert, self.key)
        except TLSError as exc:
            logger.warning("the changed certificate does not load, so the one loaded before "
                           "is still served: %s", exc)  # fmt: skip
            return False
        self._context = context
        self.loads += 1
        logger.info("certificate %s changed: new connections get the new one", self.cert)
        return True
