"""Who sent a write to the events API, and whether their role allows it: the one check.

Every write route (a view taking POST, PUT, PATCH or DELETE) is declared with
:func:`needs_role`, which calls :func:`require_role` before the view runs
(``editor`` for the everyday changes); a view may call it again for a higher
role some inputs need (``admin`` for what could orphan or double an upload). A
POST that changes nothing (a read whose question is too long for a URL) is
declared with :func:`writes_nothing` instead; tests/editor/test_route_roles.py
walks the app's URL map and fails on a write route declared neither way. A full
cut of an editor's own encoding calls :func:`current_editor`: 401 without a
known token, 403 with a JSON reason naming the role when the token's line in
the token file (:mod:`.tokens`) lacks it. docs/DESIGN.md#roles lists the routes.
"""

import functools
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from services.restreamer.editor.tokens import ADMIN, ARTIST, EDITOR, Editor, TokenFile

__all__ = ["ADMIN", "ARTIST", "EDITOR", "WRITE_METHODS", "checked_editor", "current_editor",
           "declared_role", "needs_role", "request_editor", "require_role",
           "writes_nothing"]  # fmt: skip

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNDECLARED = object()

View = TypeVar("View", bound=Callable)


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


def needs_role(role: str) -> Callable[[View], View]:
    """Declare a write view's role and check it (:func:`require_role`) before the view runs.

    The view finds the editor in :func:`checked_editor`.
    """

    def declare(view: View) -> View:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            g.editor = require_role(role)
            return view(*args, **kwargs)

        checked.required_role = role  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return declare


def writes_nothing(why: str) -> Callable[[View], View]:
    """Declare that a view taking POST changes nothing, so it needs no role; ``why`` says so."""

    def declare(view: View) -> View:
        view.required_role = None  # type: ignore[attr-defined]
        view.writes_nothing = why  # type: ignore[attr-defined]
        return view

    return declare


def checked_editor() -> Editor:
    """The editor :func:`needs_role` let through for this request."""
    return g.editor


def declared_role(view: Callable) -> str | None:
    """The role a view was declared with (None: :func:`writes_nothing`); LookupError if neither."""
    role = getattr(view, "required_role", _UNDECLARED)
    if role is _UNDECLARED:
        raise LookupError(f"{getattr(view, '__qualname__', view)!r} declares no role")
    return role  # type: ignore[return-value]
