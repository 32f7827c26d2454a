"""Who is asking: the editor whose ``Authorization: Bearer TOKEN`` came with the request.

One check for every route that needs an editor: the events API's writes, and the
costly cuts (a full cut's own encoding). The tokens are ``--editor-token-file``'s
(:mod:`.tokens`), kept on the app by :func:`services.restreamer.editor.init_app`.
"""

import logging

from flask import current_app, request
from werkzeug.exceptions import Unauthorized

from services.restreamer.editor.tokens import TokenFile

logger = logging.getLogger(__name__)

__all__ = ["editor_email"]


def editor_email(why: str = "it takes no changes") -> str:
    """The email of the editor whose bearer token came with the request; 401 otherwise.

    ``why`` completes "this restreamer has no --editor-token-file, so ..." when
    the restreamer has no tokens at all.
    """
    tokens: TokenFile | None = current_app.extensions.get("editor_tokens")
    if tokens is None:
        raise Unauthorized(f"this restreamer has no --editor-token-file, so {why}: "
                           "ask its operator")  # fmt: skip
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("no Authorization header: send 'Authorization: Bearer YOUR-TOKEN'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            f"the Authorization header is not 'Bearer TOKEN' (scheme {scheme[:20]!r})"
        )
    email = tokens.editor_for(token.strip())
    if email is None:
        raise Unauthorized("that token is not an editor's: check it, or ask for a new one")
    return email
