"""The sync's JSON configuration: which spreadsheet, which worksheets, which column holds what.

    {
      "credentials": "google.json",
      "spreadsheet_id": "1AbC...xyz",
      "worksheets": ["Day 1", {"name": "Day 2", "day": "2026-11-28"}],
      "timezone": "America/Vancouver",
      "first_row": 2,
      "columns": {"event_start": "A", "event_end": "B", "category": "C",
                  "description": "D", "notes": "E",
                  "id": "G", "state": "H", "error": "I", "video_link": "J"},
      "poll_interval": 5
    }

``credentials`` is the path (relative to this file) of a JSON file shaped like
the YouTube location's: ``client_id``, ``client_secret``, ``refresh_token``,
optional ``token_uri``. Each worksheet's rows become events whose
``sheet_name`` is the worksheet's name; ``day`` (per worksheet, or at the top
level) and ``timezone`` give ``HH:MM`` times their date and zone. Rows from
``first_row`` (1-based, after the header) down are read. ``id`` is the column
the sync writes event ids into; ``state``, ``error`` and ``video_link`` are
optional columns it fills; the others are sheet inputs it reads. Optional:
``api_base`` (Google's by default; tests use a local server).
"""

import dataclasses
import datetime as dt
import json
import os
import zoneinfo

from services.db.schema import SHEET_INPUTS
from services.db.sheetrows import parse_zone
from services.runtime.google_oauth import RefreshToken
from services.sheetsync.sheets import API_BASE, column_index, column_letter, quote_sheet

__all__ = ["INPUTS", "OUTPUTS", "Config", "Worksheet", "load_config"]

#: Columns the sync reads into sheet inputs (the worksheet's name is the sheet_name).
INPUTS = tuple(c for c in SHEET_INPUTS if c != "sheet_name")
#: Columns the sync writes: the event's id, and what became of it.
OUTPUTS = ("id", "state", "error", "video_link")


@dataclasses.dataclass(frozen=True)
class Worksheet:
    name: str
    day: dt.date | None


@dataclasses.dataclass(frozen=True)
class Config:
    path: str
    credentials: dict
    credentials_path: str
    spreadsheet_id: str
    worksheets: tuple[Worksheet, ...]
    timezone: zoneinfo.ZoneInfo
    first_row: int
    columns: dict[str, int]  # name -> 0-based column index
    poll_interval: float
    api_base: str

    def range(self, worksheet: str) -> str:
        """The A1 range that holds every configured column of the worksheet's rows."""
        last = column_letter(max(self.columns.values()))
        return f"{quote_sheet(worksheet)}!A{self.first_row}:{last}"

    def cell(self, worksheet: str, column: str, row: int) -> str:
        """The A1 name of one cell (``row`` 1-based, as the sheet numbers it)."""
        return f"{quote_sheet(worksheet)}!{column_letter(self.columns[column])}{row}"

    def oauth(self, session) -> RefreshToken:
        return RefreshToken.from_config(
            session, self.credentials, self.credentials_path, service="Google Sheets"
        )


def _day(text, where: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"{where}: day {text!r} is not YYYY-MM-DD") from None


def load_config(path: str) -> Config:
    """Read and check the configuration; ValueError says what to fix, naming the file."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the sheet sync settings {path!r}: {e}") from e
    if not isinstance(raw, dict):
        raise ValueError(f"{path!r}: the settings must be a JSON object")
    unknown = set(raw) - {
        "credentials", "spreadsheet_id", "worksheets", "timezone", "day", "first_row",
        "columns", "poll_interval", "api_base",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"{path!r}: unknown settings {sorted(unknown)!r}")
    for key in ("credentials", "spreadsheet_id", "worksheets", "columns"):
        if not raw.get(key):
            raise ValueError(f"{path!r}: {key!r} is missing or empty")

    creds_path = os.path.join(os.path.dirname(os.path.abspath(path)), str(raw["credentials"]))
    try:
        with open(creds_path) as f:
            credentials = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the Google credentials {creds_path!r}: {e}") from e
    RefreshToken.from_config(None, credentials, creds_path, service="Google Sheets")  # checks keys

    default_day = _day(raw.get("day"), path)
    worksheets = []
    for item in raw["worksheets"]:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not str(item.get("name", "")).strip():
            raise ValueError(f'{path!r}: worksheet {item!r} is not a name or {{"name": ...}}')
        day = _day(item.get("day"), f"{path!r}, worksheet {item['name']!r}") or default_day
        worksheets.append(Worksheet(str(item["name"]), day))
    names = [w.name for w in worksheets]
    if len(set(names)) != len(names):
        raise ValueError(f"{path!r}: a worksheet is listed twice in {names!r}")

    columns = {}
    if not isinstance(raw["columns"], dict):
        raise ValueError(f"{path!r}: 'columns' must map names to column letters")
    for name, letters in raw["columns"].items():
        if name not in INPUTS + OUTPUTS:
            raise ValueError(
                f"{path!r}: column {name!r} is not one of {', '.join(INPUTS + OUTPUTS)}"
            )
        try:
            columns[name] = column_index(letters)
        except ValueError as e:
            raise ValueError(f"{path!r}: column {name!r}: {e}") from None
    if "id" not in columns:
        raise ValueError(f"{path!r}: 'columns' needs an 'id' column for the sync to write ids into")
    taken: dict[int, str] = {}
    for name, index in columns.items():
        if index in taken:
            raise ValueError(
                f"{path!r}: {name!r} and {taken[index]!r} are both column {column_letter(index)}"
            )
        taken[index] = name

    try:
        zone = parse_zone(str(raw.get("timezone", "UTC")))
        first_row = int(raw.get("first_row", 2))
        poll_interval = float(raw.get("poll_interval", 5))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path!r}: {e}") from None
    if first_row < 1 or not poll_interval > 0:
        raise ValueError(f"{path!r}: first_row must be >= 1 and poll_interval > 0 seconds")
    return Config(
        path=path,
        credentials=credentials,
        credentials_path=creds_path,
        spreadsheet_id=str(raw["spreadsheet_id"]),
        worksheets=tuple(worksheets),
        timezone=zone,
        first_row=first_row,
        columns=columns,
        poll_interval=poll_interval,
        api_base=str(raw.get("api_base", API_BASE)),
    )
