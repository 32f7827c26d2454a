"""The token file's lines, ``TOKEN EMAIL [ROLE,...]``, read by services.restreamer.editor.tokens."""

import pytest

from services.restreamer.editor.tokens import (
    ADMIN,
    ARTIST,
    EDITOR,
    ROLES,
    Editor,
    TokenFileError,
    parse_tokens,
)

T1, T2, T3 = "a" * 16, "b" * 16, "c" * 16


def test_roles_are_a_third_column_and_editor_is_implied():
    tokens = parse_tokens(f"{T1} a@x\n{T2} b@x admin\n{T3} c@x artist,editor\n", "F")
    assert tokens[T1] == Editor("a@x", frozenset({EDITOR}))
    assert tokens[T2] == Editor("b@x", frozenset({EDITOR, ADMIN}))
    assert tokens[T3] == Editor("c@x", frozenset({EDITOR, ARTIST}))


def test_admin_implies_every_role():
    admin, artist = (
        Editor("b@x", frozenset({EDITOR, ADMIN})),
        Editor("c@x", frozenset({EDITOR, ARTIST})),
    )
    assert all(admin.has(role) for role in ROLES)
    assert artist.has(ARTIST)
    assert artist.has(EDITOR)
    assert not artist.has(ADMIN)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(f"{T1} a@x root", "F:1: role 'root' is not one of editor, artist, admin",
                     id="unknown role"),
        pytest.param(f"# c\n{T1} a@x admin,Admin", "F:2: role 'Admin' is not one of",
                     id="roles are lowercase"),
        pytest.param(f"{T1} a@x admin, artist", "F:1: expected 'TOKEN EMAIL [ROLE,...]', got 4",
                     id="a space in the roles"),
    ],
)  # fmt: skip
def test_a_bad_role_names_the_line(text, message):
    with pytest.raises(TokenFileError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_tokens(text, "F")
    assert T1 not in str(e.value)  # the token is a secret: never in a message
