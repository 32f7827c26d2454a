"""Thumbnails through the restreamer: ``/api/templates`` by role, ``/thumbnail`` under a
template (pixels checked against the frame and the artwork), and edits that carry one."""

import base64
import datetime as dt
import io

import numpy as np
import pytest
import requests

from services.db import states
from services.restreamer.png import encode_png
from tests.restreamer.images import png_pixels
from tests.servers import ServerProcess

from .conftest import ALICE, T0, Client
from .test_api import EDIT, new_event, table

ARTIST = "artist-token-0123456789abcde"
ADMIN = "admin-token-0123456789abcdef"
TOKENS = f"{ALICE} alice@example.com\n{ARTIST} art@example.com artist\n{ADMIN} root@x.org admin\n"
MAGENTA = (255, 0, 255, 255)
FRAME_SIZE = (320, 180)
WHEN = "2026-11-27T17:00:00.5Z"  # 8.5 s into the stream


def template_png(size=(400, 300), hole=(40, 30, 360, 210), colour=MAGENTA) -> bytes:
    """Opaque artwork of one colour with a transparent window at ``hole``."""
    pixels = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    pixels[:, :] = colour
    left, top, right, bottom = hole
    pixels[top:bottom, left:right] = 0
    return encode_png(pixels)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def template_body(name="frame", **fields):
    return {
        "name": name,
        "image": b64(template_png()),
        "description": "the usual",
        "attribution": "Ann Artist",
        "crop": [0, 0, 320, 180],
        "location": [40, 30, 360, 210],
        **fields,
    }


@pytest.fixture(scope="module")
def art_api(module_dsn, archive_base, tmp_path_factory):
    path = tmp_path_factory.mktemp("art") / "editors.txt"
    path.write_text(TOKENS)
    server = ServerProcess(archive_base, "--db", module_dsn, "--editor-token-file", str(path))
    yield Client(server, token=ARTIST)
    server.stop()


def put(api, path, body, token=ARTIST):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.put(api.url + path, json=body, headers=headers, timeout=30)


def rgba(png: bytes) -> np.ndarray:
    return png_pixels(png, "rgba").astype(np.int16)


def test_templates_by_role(art_api, module_db):
    name = "by-role"
    refused = art_api.post("/api/templates", template_body(name), token=ALICE)
    assert refused.status_code == 403
    assert "this needs the artist role" in refused.json()["error"]
    assert art_api.post("/api/templates", template_body(name), token=None).status_code == 401
    made = art_api.post("/api/templates", template_body(name))
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == f"/api/templates/{name}.png"
    assert made.json()["attribution"] == "Ann Artist"
    again = art_api.post("/api/templates", template_body(name))
    assert again.status_code == 409
    assert "exists already: PUT /api/templates/by-role replaces it" in again.json()["error"]
    # an admin holds every role
    admin = art_api.post("/api/templates", template_body("by-admin"), token=ADMIN)
    assert admin.status_code == 201, admin.text
    listed = {t["name"]: t for t in art_api.get("/api/templates").json()}
    assert listed[name]["crop"] == [0, 0, 320, 180]
    assert listed[name]["image"] == f"/api/templates/{name}.png"
    image = art_api.get(f"/api/templates/{name}.png")
    assert image.headers["Content-Type"] == "image/png"
    assert image.content == template_png()
    # replacing: the editor may not, the artist may
    newer = template_body(name, image=b64(template_png(colour=(0, 255, 0, 255))), attribution="B")
    assert put(art_api, f"/api/templates/{name}", newer, token=ALICE).status_code == 403
    replaced = put(art_api, f"/api/templates/{name}", newer)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["attribution"] == "B"
    assert art_api.get(f"/api/templates/{name}.png").content == newer_png()
    missing = put(art_api, "/api/templates/nobody", newer | {"name": "nobody"})
    assert missing.status_code == 404
    assert "no template 'nobody'" in missing.json()["error"]
    assert art_api.get("/api/templates/nobody.png").status_code == 404


def newer_png():
    return template_png(colour=(0, 255, 0, 255))


BIG_SIDE = encode_png(np.zeros((1, 5000, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        pytest.param({"image": "not base64!"}, 400, "image is not base64", id="not base64"),
        pytest.param({"image": b64(b"GIF89a....")}, 400, "image is not a PNG", id="not png"),
        pytest.param({"image": b64(BIG_SIDE)}, 400, "is 5000x1 pixels: at most 4096", id="wide"),
        pytest.param(
            {"image": b64(b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024))},
            400,
            "over 2097152 (2 MiB)",
            id="over 2 MiB",
        ),  # fmt: skip
        pytest.param(
            {"location": [0, 0, 500, 300]}, 400, "reaches outside the image", id="location outside"
        ),  # fmt: skip
        pytest.param({"crop": [0, 0, 10]}, 400, "crop '[0, 0, 10]' is not four", id="three"),
        pytest.param({"crop": [9, 0, 5, 5]}, 400, "right must be past left", id="backwards"),
        pytest.param({"name": "../x"}, 400, "template name '../x' is not", id="bad name"),
        pytest.param(
            {"colour": "red"}, 400, "unknown fields for a template: 'colour'", id="unknown field"
        ),  # fmt: skip
        pytest.param({"location": None}, 400, "a template needs location", id="missing"),
    ],
)
def test_bad_templates_are_refused(art_api, module_db, fields, status, reason):
    before = module_db.query("SELECT name FROM templates")
    answer = art_api.post("/api/templates", template_body(**{"name": "refused", **fields}))
    assert answer.status_code == status, answer.text
    assert reason in answer.json()["error"]
    assert module_db.query("SELECT name FROM templates") == before


def test_thumbnail_under_a_template_shows_the_frame_in_its_window(art_api, module_db):
    art_api.post("/api/templates", template_body("window"))
    frame = art_api.get(f"/frame/test/source.png?timestamp={WHEN}")
    thumb = art_api.get(f"/thumbnail/test/source.png?timestamp={WHEN}&template=window")
    assert thumb.status_code == 200, thumb.text
    assert thumb.headers["Content-Type"] == "image/png"
    got, want = rgba(thumb.content), rgba(frame.content)
    assert got.shape == (300, 400, 4)
    # inside location (the template's transparent window): the frame, pixel for pixel
    assert np.abs(got[30:210, 40:360] - want).max() <= 2
    # outside it: the template
    outside = np.ones((300, 400), dtype=bool)
    outside[30:210, 40:360] = False
    assert (got[outside] == MAGENTA).all()


def test_thumbnail_crop_and_location_from_the_query(art_api, module_db):
    art_api.post("/api/templates", template_body("zoom"))
    frame = rgba(art_api.get(f"/frame/test/source.png?timestamp={WHEN}").content)
    # the middle quarter of the frame, twice as big, into the same window
    url = (f"/thumbnail/test/source.png?timestamp={WHEN}&template=zoom"
           "&crop=80,45,240,135&location=40,30,360,210")  # fmt: skip
    got = rgba(art_api.get(url).content)[30:210, 40:360, :3]
    wanted = np.repeat(np.repeat(frame[45:135, 80:240, :3], 2, axis=0), 2, axis=1)
    assert np.abs(got - wanted).mean() < 6
    # and it is not just any picture: the uncropped frame differs far more
    assert np.abs(got - frame[:, :, :3]).mean() > 3 * np.abs(got - wanted).mean()


def test_thumbnail_with_a_posted_template(art_api):
    url = f"/thumbnail/test/source.png?timestamp={WHEN}&crop=0,0,320,180&location=0,0,160,90"
    answer = requests.post(art_api.url + url, data=template_png((200, 100), (0, 0, 160, 90)),
                           timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    got = rgba(answer.content)
    assert got.shape == (100, 200, 4)
    assert (got[90:, :] == MAGENTA).all()
    assert (got[:90, :160, 3] == 255).all()  # the frame, opaque


@pytest.mark.parametrize(
    ("query", "body", "status", "reason"),
    [
        pytest.param("&template=nobody", None, 404, "no template 'nobody'", id="no template"),
        pytest.param("&template=errs&crop=0,0,999,180", None, 400,
                     "crop 0,0,999,180 reaches outside the frame (320x180", id="crop outside"),
        pytest.param("&template=errs&location=0,0,999,10", None, 400,
                     "location 0,0,999,10 reaches outside the template", id="location outside"),
        pytest.param("&template=errs&crop=1,2", None, 400, "crop '1,2' is not four", id="crop"),
        pytest.param("&crop=0,0,9,9", b"GIF89a", 400, "the template is not a PNG", id="not png"),
        pytest.param("&crop=0,0,9,9&location=0,0,9,9", BIG_SIDE, 400, "at most 4096 a side",
                     id="too wide"),
        pytest.param("", template_png(), 400, "crop is required with an uploaded template",
                     id="no crop"),
        pytest.param("&crop=0,0,9,9", b"\x89PNG" + bytes(3 * 1024 * 1024), 413,
                     "a template is a PNG of at most 2 MiB", id="too big"),
    ],
)  # fmt: skip
def test_bad_thumbnail_requests(art_api, query, body, status, reason):
    art_api.post("/api/templates", template_body("errs"))
    url = f"{art_api.url}/thumbnail/test/source.png?timestamp={WHEN}{query}"
    if body is None:
        answer = requests.get(url, timeout=30)
    else:
        answer = requests.post(url, data=io.BytesIO(body).read(), timeout=30)
    assert answer.status_code == status, answer.text
    assert reason in answer.text


def test_thumbnail_without_template_is_still_a_scaled_frame(art_api):
    answer = art_api.get(f"/thumbnail/test/source.png?timestamp={WHEN}&width=160")
    assert answer.status_code == 200
    assert png_pixels(answer.content).shape == (90, 160)


THUMB = {"thumbnail_mode": "TEMPLATE", "thumbnail_time": WHEN, "thumbnail_template": "edits",
         "thumbnail_crop": [0, 0, 320, 180], "thumbnail_location": [40, 30, 360, 210]}  # fmt: skip


def test_an_edit_with_a_template_thumbnail(art_api, module_db):
    art_api.post("/api/templates", template_body("edits"))
    event = new_event(module_db)
    answer = art_api.post(f"/api/events/{event}/edit", EDIT | THUMB, token=ALICE)
    assert answer.status_code == 200, answer.text
    row = states.get_event(module_db, event)
    assert (row.thumbnail_mode, row.thumbnail_template) == ("TEMPLATE", "edits")
    assert row.thumbnail_time == dt.datetime(2026, 11, 27, 17, 0, 0, 500000)
    assert row.thumbnail_location == [40, 30, 360, 210]
    assert answer.json()["thumbnail_mode"] == "TEMPLATE"


def test_a_template_credit_counts_toward_youtubes_description_limit(art_api, module_db):
    """A TEMPLATE thumbnail's credit is published below the description: an edit that
    fits YouTube's 5,000 bytes only without it is refused, and with a BARE one it fits."""
    art_api.post("/api/templates", template_body("edits"))
    credit = "\n\nThumbnail art by Ann Artist"  # the blank line and the template's credit
    edit = EDIT | {"video_description": "d" * (5000 - len(credit) + 1)}
    event = new_event(module_db)
    before = table(module_db)
    answer = art_api.post(f"/api/events/{event}/edit", edit | THUMB, token=ALICE)
    assert answer.status_code == 400, answer.text
    reason = "the description is 5001 bytes with the chapters, credit and footer"
    assert reason in answer.json()["error"]
    assert table(module_db) == before
    bare = {"thumbnail_mode": "BARE", "thumbnail_time": WHEN}
    answer = art_api.post(f"/api/events/{event}/edit", edit | bare, token=ALICE)
    assert answer.status_code == 200, answer.text


def test_an_edit_with_a_custom_image_reads_back_as_base64(art_api, module_db):
    event = new_event(module_db)
    image = template_png((64, 36), (0, 0, 1, 1))
    body = EDIT | {"thumbnail_mode": "CUSTOM", "thumbnail_image": b64(image)}
    answer = art_api.post(f"/api/events/{event}/edit", body, token=ALICE)
    assert answer.status_code == 200, answer.text
    assert base64.b64decode(answer.json()["thumbnail_image"]) == image
    assert bytes(states.get_event(module_db, event).thumbnail_image) == image


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param({"thumbnail_template": "nobody"},
                     "thumbnail_template: no template 'nobody'", id="no such template"),
        pytest.param({"thumbnail_time": "2026-11-27T18:00:00Z"},
                     "thumbnail_time 2026-11-27T18:00:00 has no recorded video", id="no frame"),
        pytest.param({"thumbnail_template": None}, "needs thumbnail_template", id="no template"),
        pytest.param({"thumbnail_mode": "SHINY"}, "'SHINY' is not one of NONE", id="mode"),
        pytest.param({"thumbnail_crop": [0, 0, 0, 0]}, "right must be past left", id="box"),
        pytest.param({"thumbnail_image": b64(template_png())}, "only for a CUSTOM", id="image"),
        pytest.param({"thumbnail_mode": "CUSTOM", "thumbnail_image": b64(b"GIF89a")},
                     "thumbnail_image is not a PNG", id="custom not png"),
    ],
)  # fmt: skip
def test_bad_thumbnail_edits_write_nothing(art_api, module_db, fields, reason):
    art_api.post("/api/templates", template_body("edits"))
    event = new_event(module_db)
    before = table(module_db)
    answer = art_api.post(f"/api/events/{event}/edit", EDIT | THUMB | fields, token=ALICE)
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["error"]
    assert table(module_db) == before
    assert T0  # the archive the edits point into starts here
