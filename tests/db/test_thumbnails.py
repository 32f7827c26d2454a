"""Thumbnail edit inputs and the templates table: the rules, in Python and in the database."""

import datetime as dt

import pytest
from psycopg import errors as pg_errors

from services.db import states
from services.db.thumbnails import (
    TemplateNotFound,
    check_template_name,
    get_template,
    list_templates,
    parse_box,
    put_template,
    remove_template,
    thumbnail_values,
)

from .test_schema import DONE_VALUES, EDIT_VALUES, T0, insert

PNG = b"\x89PNG\r\n\x1a\n" + b"not really, but the table does not decode it"
EDIT = {k: v for k, v in EDIT_VALUES.items() if k not in ("allow_holes", "uploader_whitelist")}


@pytest.mark.parametrize(
    ("value", "box"),
    [
        pytest.param("0,0,1280,720", (0, 0, 1280, 720), id="text"),
        pytest.param(" 10, 20 ,30,40", (10, 20, 30, 40), id="spaces"),
        pytest.param([1, 2, 3, 4], (1, 2, 3, 4), id="list"),
    ],
)
def test_parse_box(value, box):
    assert parse_box(value, "crop") == box


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("1,2,3", "is not four whole pixels", id="three"),
        pytest.param("a,b,c,d", "is not four whole pixels", id="words"),
        pytest.param([1, 2, 3, 4.5], "is not four whole pixels", id="fraction"),
        pytest.param([True, 0, 5, 5], "is not four whole pixels", id="bool"),
        pytest.param("10,0,5,5", "right must be past left", id="backwards"),
        pytest.param("0,0,5000,5", "from 0 to 4096", id="too big"),
        pytest.param("-1,0,5,5", "right must be past left", id="negative"),
    ],
)
def test_parse_box_refuses(value, reason):
    with pytest.raises(ValueError, match=f"^crop .*{reason}"):
        parse_box(value, "crop")


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        pytest.param({"thumbnail_mode": "FANCY"}, "is not one of NONE, BARE", id="mode"),
        pytest.param({"thumbnail_mode": "BARE"}, "BARE thumbnail needs thumbnail_time", id="bare"),
        pytest.param(
            {"thumbnail_mode": "TEMPLATE", "thumbnail_time": T0},
            "needs thumbnail_template",
            id="template without name",
        ),
        pytest.param(
            {"thumbnail_mode": "TEMPLATE", "thumbnail_template": "x"},
            "needs thumbnail_time",
            id="template without time",
        ),
        pytest.param({"thumbnail_mode": "CUSTOM"}, "needs thumbnail_image", id="custom"),
        pytest.param(
            {"thumbnail_mode": "BARE", "thumbnail_time": T0, "thumbnail_image": PNG},
            "only for a CUSTOM thumbnail",
            id="image with bare",
        ),
    ],
)
def test_what_each_mode_needs(inputs, reason):
    with pytest.raises(ValueError, match=reason):
        thumbnail_values(**inputs)


def test_no_mode_is_none():
    assert thumbnail_values()["thumbnail_mode"] == "NONE"


@pytest.mark.parametrize(
    ("mode", "missing", "constraint"),
    [
        ("BARE", "thumbnail_time", "thumbnail_time_set"),
        ("TEMPLATE", "thumbnail_time", "thumbnail_time_set"),
        ("TEMPLATE", "thumbnail_template", "thumbnail_template_set"),
        ("CUSTOM", "thumbnail_image", "thumbnail_image_set"),
    ],
)
def test_the_database_refuses_what_a_mode_lacks(db, mode, missing, constraint):
    values = {"thumbnail_time": T0, "thumbnail_template": "t", "thumbnail_image": PNG}
    values[missing] = None
    with pytest.raises(pg_errors.CheckViolation, match=constraint):
        insert(db, **EDIT_VALUES, **DONE_VALUES, state="EDITED", thumbnail_mode=mode, **values)
    # an UNEDITED event may hold anything (a draft's leftovers, a reset edit)
    insert(db, thumbnail_mode=mode, **values)


def test_a_box_is_four_integers(db):
    with pytest.raises(pg_errors.CheckViolation):
        insert(db, thumbnail_crop=[1, 2, 3])


def test_an_edit_stores_the_thumbnail_and_a_cutter_claims_it(db):
    event = states.add_event(db, "sheet")
    row = states.edit(
        db, event, editor="a@x", thumbnail_mode="TEMPLATE", thumbnail_time=T0,
        thumbnail_template="frame", thumbnail_crop="0,0,320,180",
        thumbnail_location=[10, 10, 170, 100], **EDIT,
    )  # fmt: skip
    assert (row.thumbnail_mode, row.thumbnail_template) == ("TEMPLATE", "frame")
    assert row.thumbnail_crop == [0, 0, 320, 180]
    assert row.thumbnail_location == [10, 10, 170, 100]
    claimed = states.claim(db, row, "node1")
    assert claimed is not None
    assert claimed.state == "CLAIMED"


def test_an_edit_changed_since_it_was_read_is_not_claimed(db):
    event = states.add_event(db, "sheet")
    row = states.edit(db, event, editor="a@x", thumbnail_mode="BARE", thumbnail_time=T0, **EDIT)
    later = T0 + dt.timedelta(seconds=1)
    states.edit(db, event, editor="a@x", thumbnail_mode="BARE", thumbnail_time=later, **EDIT)
    assert states.claim(db, row, "node1") is None


def test_an_edit_without_thumbnail_inputs_is_none(db):
    event = states.add_event(db, "sheet")
    row = states.edit(db, event, editor="a@x", **EDIT)
    assert row.thumbnail_mode == "NONE"
    assert states.claim(db, row, "node1") is not None


def test_a_bad_thumbnail_edit_writes_nothing(db):
    event = states.add_event(db, "sheet")
    with pytest.raises(ValueError, match="needs thumbnail_template"):
        states.edit(db, event, editor="a@x", thumbnail_mode="TEMPLATE", thumbnail_time=T0, **EDIT)
    assert states.get_event(db, event).state == "UNEDITED"


def _uploaded(db, mode, **extra):
    event = states.add_event(db, "sheet")
    row = states.edit(db, event, editor="a@x", thumbnail_mode=mode, **extra, **EDIT)
    states.claim(db, row, "node1")
    states.finalizing(db, event, "node1")
    states.finished(db, event, "node1", "v1", "http://x/v1", transcoding=True)
    return event


def test_a_failed_thumbnail_stays_noted_when_the_video_is_ready(db):
    event = _uploaded(db, "BARE", thumbnail_time=T0)
    states.thumbnail_failed(db, event, "node1", "thumbnail could not be set")
    done = states.transcoded(db, event)
    assert (done.state, done.error) == ("DONE", "thumbnail could not be set")


def test_a_written_thumbnail_is_recorded_and_the_error_cleared_when_ready(db):
    event = _uploaded(db, "BARE", thumbnail_time=T0)
    assert states.thumbnail_written(db, event, "node1", b"jpeg").thumbnail_last_written == b"jpeg"
    states.transcode_problem(db, event, "still processing oddly")
    done = states.transcoded(db, event)
    assert (done.state, done.error, done.thumbnail_last_written) == ("DONE", None, b"jpeg")


def test_templates_add_replace_list_remove(db):
    assert put_template(db, "frame", PNG, crop=(0, 0, 320, 180), location=(0, 0, 160, 90),
                        attribution="Ann", replace=False)  # fmt: skip
    with pytest.raises(ValueError, match="exists already"):
        put_template(db, "frame", PNG, crop=(0, 0, 1, 1), location=(0, 0, 1, 1), replace=False)
    with pytest.raises(TemplateNotFound, match="no template 'other' to replace"):
        put_template(db, "other", PNG, crop=(0, 0, 1, 1), location=(0, 0, 1, 1), replace=True)
    put_template(db, "frame", PNG + b"2", crop=(1, 1, 2, 2), location=(0, 0, 1, 1),
                 description="new", replace=True)  # fmt: skip
    row = get_template(db, "frame")
    assert (bytes(row.image), row.crop, row.description, row.attribution) == (
        PNG + b"2", [1, 1, 2, 2], "new", "",
    )  # fmt: skip
    (listed,) = list_templates(db)
    assert (listed.name, listed.image_bytes) == ("frame", len(PNG) + 1)
    remove_template(db, "frame")
    with pytest.raises(TemplateNotFound, match="no template 'frame'"):
        get_template(db, "frame")
    with pytest.raises(TemplateNotFound):
        remove_template(db, "frame")


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "x" * 65, "trailing.", "tab\there"])
def test_template_names_refused(name):
    with pytest.raises(ValueError, match="is not 1 to 64 letters"):
        check_template_name(name)
