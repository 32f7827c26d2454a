"""Every write route declares the role it needs, and answers each role as DESIGN.md's table says.

The app's URL map is walked: a view taking POST, PUT, PATCH or DELETE must be
declared with ``roles.needs_role`` or ``roles.writes_nothing``, so a new write
route without a role fails here. Then every write route of a real restreamer is
called with no token, an editor's, an artist's and an admin's: 401 without one,
403 naming the role when the token's line lacks it (nothing written), 2xx
otherwise. ``CASES`` must cover every write route of the map, so a new one
needs its case here too.
"""

import uuid

import prometheus_client
import pytest
import requests
from flask import Flask

from services.db.thumbnails import put_template
from services.restreamer.app import create_app
from services.restreamer.editor.roles import WRITE_METHODS, declared_role, needs_role
from tests.servers import ServerProcess

from .conftest import ALICE, CHANNEL, QUALITY, T0, Client
from .test_api import EDIT, table
from .test_roles import ADMIN, ARTIST, TOKENS, in_state
from .test_thumbnails import template_body, template_png

NO_TOKEN = None
TOKEN_ROLES = {NO_TOKEN: (), ALICE: ("editor",), ARTIST: ("editor", "artist"), ADMIN: ("admin",)}
NAMES = {NO_TOKEN: "no token", ALICE: "editor", ARTIST: "artist", ADMIN: "admin"}


def write_routes(app: Flask) -> dict[tuple[str, str], object]:
    """(method, rule) -> view of every write route in the app's URL map."""
    found = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            found[method, rule.rule] = app.view_functions[rule.endpoint]
    return found


def undeclared(app: Flask) -> list[str]:
    found = []
    for (method, rule), view in write_routes(app).items():
        try:
            declared_role(view)
        except LookupError:
            found.append(f"{method} {rule}")
    return found


def full_app(tmp_path) -> Flask:
    """The app with every optional part on (the events API, /clips/): routes only."""
    return create_app({
        "BASE_DIR": str(tmp_path),
        "METRICS_REGISTRY": prometheus_client.CollectorRegistry(),
        "DATABASE": "host=/nonexistent dbname=unused",  # never connected
        "CLIPS_DIR": str(tmp_path),
    })  # fmt: skip


def test_every_write_route_declares_its_role(tmp_path):
    app = full_app(tmp_path)
    routes = write_routes(app)
    assert ("POST", "/api/events/<event_id>/<action>") in routes
    assert not undeclared(app), "write routes without roles.needs_role or roles.writes_nothing"
    roles = {route: declared_role(view) for route, view in routes.items()}
    assert roles[("POST", "/api/events")] == "editor"
    assert roles[("POST", "/batch/<channel>/<quality>/<hour>")] is None


def test_a_new_write_route_without_a_role_is_caught(tmp_path):
    app = full_app(tmp_path)
    app.add_url_rule("/api/frobnicate", "frobnicate", lambda: "", methods=["DELETE"])
    app.add_url_rule("/api/declared", "declared", needs_role("admin")(lambda: ""), methods=["PUT"])
    assert undeclared(app) == ["DELETE /api/frobnicate"]


# (method, rule) -> [(case, needed role or None, request maker)]. A maker takes the
# database and returns (path, JSON body); None as the role: writes nothing, no token.
CASES = {
    ("POST", "/api/events"): [
        ("add", "editor", lambda db: ("/api/events", {"sheet_name": "By role"})),
    ],
    ("POST", "/api/events/<event_id>/<action>"): [
        ("edit", "editor", lambda db: (f"/api/events/{in_state(db, 'UNEDITED')}/edit", EDIT)),
        (
            "draft",
            "editor",
            lambda db: (f"/api/events/{in_state(db, 'UNEDITED')}/draft", {"video_title": "x"}),
        ),
        ("cancel", "editor", lambda db: (f"/api/events/{in_state(db, 'EDITED')}/cancel", None)),
        (
            "reset EDITED",
            "editor",
            lambda db: (f"/api/events/{in_state(db, 'EDITED')}/reset", None),
        ),
        (
            "reset CLAIMED",
            "admin",
            lambda db: (f"/api/events/{in_state(db, 'CLAIMED')}/reset", None),
        ),
        (
            "reset DONE, forced",
            "admin",
            lambda db: (f"/api/events/{in_state(db, 'DONE')}/reset", {"force": True}),
        ),
        (
            "manual-upload",
            "editor",
            lambda db: (
                f"/api/events/{in_state(db, 'EDITED')}/manual-upload",
                {"video_link": "https://v.example/by-hand"},
            ),
        ),
    ],  # fmt: skip
    ("POST", "/batch/<channel>/<quality>/<hour>"): [
        (
            "batch",
            None,
            lambda db: (
                f"/batch/{CHANNEL}/{QUALITY}/{T0:%Y-%m-%dT%H}",
                ["59:58.000000-2-full-47DEQpj8HBSa_-TImW_5JCeuQeRkm5NMpJWZG3hSuFU.ts"],
            ),
        ),
    ],  # fmt: skip
}


def _new_template(db):
    """A template of a fresh name, made directly, to be replaced by a PUT."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    put_template(db, name, template_png(), crop=(0, 0, 320, 180), location=(40, 30, 360, 210),
                 replace=False)  # fmt: skip
    return f"/api/templates/{name}", template_body(name)


CASES[("POST", "/api/templates")] = [
    ("add a template", "artist",
     lambda db: ("/api/templates", template_body(f"t-{uuid.uuid4().hex[:8]}"))),
]  # fmt: skip
CASES[("PUT", "/api/templates/<name>")] = [("replace a template", "artist", _new_template)]
CASES[("POST", "/thumbnail/<channel>/<quality>.png")] = [
    ("preview a thumbnail", None, lambda db: (
        f"/thumbnail/{CHANNEL}/{QUALITY}.png?timestamp={T0.isoformat()}&crop=0,0,320,180"
        "&location=40,30,360,210", template_png())),
]  # fmt: skip


def send(api: Client, method: str, path: str, body, token) -> requests.Response:
    """The write as a client makes it: JSON, or the bytes of an image."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(body, bytes):
        return requests.request(method, api.url + path, data=body, headers=headers, timeout=30)
    return requests.request(method, api.url + path, json=body, headers=headers, timeout=30)


def test_the_cases_cover_every_write_route(tmp_path):
    assert set(CASES) == set(write_routes(full_app(tmp_path)))


@pytest.fixture(scope="module")
def every_role_api(module_dsn, archive_base, tmp_path_factory):
    token_path = tmp_path_factory.mktemp("route_roles") / "editors.txt"
    token_path.write_text(TOKENS)
    server = ServerProcess(archive_base, "--db", module_dsn, "--editor-token-file", str(token_path))
    yield Client(server)
    server.stop()


@pytest.mark.parametrize(
    ("route", "case", "role", "make"),
    [
        pytest.param(route, case, role, make, id=case)
        for route, cases in CASES.items()
        for case, role, make in cases
    ],
)
@pytest.mark.parametrize("token", list(TOKEN_ROLES), ids=list(NAMES.values()))
def test_every_write_route_answers_each_role(every_role_api, module_db, route, case, role, make,
                                             token):  # fmt: skip
    path, body = make(module_db)
    before = table(module_db)
    answer = send(every_role_api, route[0], path, body, token)
    allowed = role is None or any(r in ("admin", role) for r in TOKEN_ROLES[token])
    if allowed:
        assert 200 <= answer.status_code < 300, answer.text
        return
    expected = 401 if token is NO_TOKEN else 403
    assert answer.status_code == expected, answer.text
    if expected == 403:
        assert answer.json()["error"].startswith(f"this needs the {role} role"), answer.text
    assert table(module_db) == before  # a refused write writes nothing
