"""The fake Google Sheets answers as the v4 API does, so the sync tests mean something."""

import pytest
import requests

from services.sheetsync.sheets import column_index, column_letter, quote_sheet


@pytest.fixture
def api(sheets):
    """(session with a bearer token, the spreadsheet's values URL)."""
    session = requests.Session()
    token = session.post(f"{sheets.url}/token", data={
        "client_id": "cid", "client_secret": "secret", "refresh_token": "refresh",
        "grant_type": "refresh_token",
    }).json()["access_token"]  # fmt: skip
    session.headers["Authorization"] = f"Bearer {token}"
    yield session, f"{sheets.url}/v4/spreadsheets/{sheets.spreadsheet_id}/values"
    session.close()


def test_batch_get_trims_and_clips_like_google(sheets, api):
    session, url = api
    sheets.set_row("Day 1", 2, ["a", "", "c", "", ""])
    sheets.set_row("Day 1", 3, ["", "", ""])
    answer = session.get(
        f"{url}:batchGet", params={"ranges": ["'Day 1'!A2:D", "Day 2!B1:B1", "A1:B1"]}
    ).json()
    first, second, third = answer["valueRanges"]
    assert first == {"range": "'Day 1'!A2:D1000", "majorDimension": "ROWS",
                     "values": [["a", "", "c"]]}  # fmt: skip
    assert second == {"range": "'Day 2'!B1:B1", "majorDimension": "ROWS", "values": [["End"]]}
    assert third["values"] == [["Start", "End"]]  # no sheet named: the first one
    columns = session.get(f"{url}/'Day 1'!A1:B2", params={"majorDimension": "COLUMNS"}).json()
    assert columns["values"] == [["Start", "a"], ["End"]]


def test_batch_update_checks_its_input_and_is_all_or_nothing(sheets, api):
    session, url = api
    one = {"range": "'Day 1'!F2", "values": [["id-1"]]}
    too_big = {"range": "'Day 1'!G2", "values": [["a", "b"]]}
    resp = session.post(f"{url}:batchUpdate", json={"data": [one]})
    assert resp.status_code == 400
    assert "valueInputOption" in resp.json()["error"]["message"]
    resp = session.post(f"{url}:batchUpdate", json={"valueInputOption": "RAW",
                                                    "data": [one, too_big]})  # fmt: skip
    assert resp.status_code == 400
    assert sheets.cell("Day 1", "F2") == ""
    resp = session.post(f"{url}:batchUpdate", json={"valueInputOption": "RAW", "data": [one]})
    assert resp.json()["totalUpdatedCells"] == 1
    assert sheets.cell("Day 1", "F2") == "id-1"
    resp = session.post(f"{url}:batchUpdate", json={"valueInputOption": "RAW",
                                                    "data": [{"range": "Nope!A1",
                                                              "values": [["x"]]}]})  # fmt: skip
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "Unable to parse range: Nope!A1"


def test_tokens_and_faults(sheets, api):
    session, url = api
    anonymous = requests.get(f"{url}:batchGet", params={"ranges": "A1"}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    sheets.fail_next = [(429, 30)]
    resp = session.get(f"{url}:batchGet", params={"ranges": "A1"})
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "30")
    assert session.get(f"{url}:batchGet", params={"ranges": "A1"}).status_code == 200


def test_column_letters():
    assert [column_index(c) for c in ("A", "z", "AA", "AZ", "BA")] == [0, 25, 26, 51, 52]
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip
    assert quote_sheet("Don't") == "'Don''t'"
    with pytest.raises(ValueError, match="'A1' is not a column"):
        column_index("A1")
