"""Who sent a write to the events API, and whether their role allows it: the one check.

Every write route calls :func:`require_role` (``editor`` for the everyday
changes, ``admin`` for what could orphan or double an upload), and a full cut
of an editor's own encoding calls :func:`current_editor`: 401 without a
known token, 403 with a JSON reason naming the role when the token's line in
the token file (:mod:`.tokens`) lacks it. docs/DESIGN.md#roles lists the routes.
"""

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from services.restreamer.editor.tokens import ADMIN, ARTIST, EDITOR, Editor, TokenFile

__all__ = ["ADMIN", "ARTIST", "EDITOR", "current_editor", "request_editor", "require_role"]


def current_editor(why: str = "it takes no changes") -> Editor:
    """The editor whose bearer token came with the request; 401 saying what is wrong otherwise.

    ``why`` completes "this restreamer has no --editor-token-file, so ..." when
    the restreamer has no tokens at all.
    """
    tokens: TokenFile | None = current_app.extensions.get("editor_tokens")
    if tokens is None:
        raise Unauthorized(
            f"this restreamer has no --editor-token-file, so {why}: ask its operator"
        )
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("no Authorization header: send 'Authorization: Bearer YOUR-TOKEN'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            f"the Authorization header is not 'Bearer TOKEN' (scheme {scheme[:20]!r})"
        )
    editor = tokens.editor_for(token.strip())
    if editor is None:
        raise Unauthorized("that token is not an editor's: check it, or ask for a new one")
    g.editor = editor  # the request's writer, for the audit trail (request_editor)
    return editor


def request_editor() -> Editor | None:
    """The editor :func:`current_editor` found for this request, if it was asked."""
    return g.get("editor")


def require_role(role: str) -> Editor:
    """The request's editor if they hold ``role`` (admin holds all); 401 or 403 otherwise.

    The 403's JSON body (``{"error": ..., "status": 403}``, from the API's error
    handler) names the role needed and who can grant it.
    """
    editor = current_editor()
    if not editor.has(role):
        raise Forbidden(
            f"this needs the {role} role; ask an admin to add it to your line in the token file"
        )
    return editor
