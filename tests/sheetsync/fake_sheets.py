"""A local HTTP server speaking the part of Google Sheets API v4 the sync uses.

As Google documents it (developers.google.com/sheets/api/reference/rest):
the OAuth refresh-token grant; ``spreadsheets.values.get`` and
``values:batchGet`` (A1 ranges with or without a quoted sheet name, open-ended
ranges like ``A2:K``, ``majorDimension`` ROWS or COLUMNS, trailing empty cells
and rows left out, the answered range clipped to the grid); and
``values:batchUpdate`` (``valueInputOption`` required, each ValueRange's
values must fit its range, writes beyond the grid refused). Requests need a
bearer token the token endpoint issued. Cells hold text, as the sync reads
them (FORMATTED_VALUE) and writes them (RAW); formulas are not evaluated.

Test controls: ``fail_next`` (statuses such as 429 or 503 answered to the next
API requests, with an optional Retry-After), ``on_get`` (functions run after
the next reads took their snapshot, before they answer: a person editing the
sheet while the sync works), ``before_update`` (the same, before the next
write is applied), and helpers that edit the sheet as a person would.
"""

import json
import re
import threading
import urllib.parse
import uuid

from tests.httpfake import FakeHandler, serve, stop

GRID_ROWS, GRID_COLUMNS = 1000, 26  # a new Google sheet's grid (it grows as rows are added)
_A1 = re.compile(r"^([A-Z]*)(\d*)$")
_STATUS = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
}  # fmt: skip


class RangeError(ValueError):
    pass


def column_number(letters: str) -> int:
    n = 0
    for char in letters:
        n = n * 26 + ord(char) - ord("A") + 1
    return n


def column_letters(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


class FakeSheets:
    def __init__(self, sheets=("Sheet1",), spreadsheet_id="sheet-abc",
                 client_id="cid", client_secret="secret", refresh_token="refresh"):  # fmt: skip
        self.spreadsheet_id = spreadsheet_id
        self.credentials = (client_id, client_secret, refresh_token)
        self.lock = threading.Lock()
        # sheet name -> rows (lists of text), in tab order; the first is the default sheet
        self.sheets: dict[str, list[list[str]]] = {name: [] for name in sheets}
        self.tokens: set[str] = set()
        self.token_grants = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of API calls answered
        self.written: list[str] = []  # every A1 range a batchUpdate wrote
        # (status, Retry-After) for each of the next API requests; status None lets one pass
        self.fail_next: list[tuple[int | None, float | None]] = []
        self.on_get: list = []  # functions, one run after each of the next reads
        self.before_update: list = []  # functions, one run before each of the next writes
        self.server = serve(_handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        stop(self.server)

    def credentials_json(self, **extra) -> dict:
        cid, secret, refresh = self.credentials
        return {"client_id": cid, "client_secret": secret, "refresh_token": refresh,
                "token_uri": f"{self.url}/token", **extra}  # fmt: skip

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    # -- a person at the sheet --------------------------------------------------------

    def set_row(self, sheet: str, number: int, values: list[str]) -> None:
        """Row ``number`` (from 1) becomes ``values`` from column A."""
        with self.lock:
            rows = self.sheets[sheet]
            while len(rows) < number:
                rows.append([])
            rows[number - 1] = list(values)

    def set_cell(self, sheet: str, cell: str, text: str) -> None:
        letters, digits = _A1.match(cell).groups()
        with self.lock:
            self._put(sheet, int(digits) - 1, column_number(letters) - 1, text)

    def insert_row(self, sheet: str, number: int, values: list[str]) -> None:
        """Insert a row before row ``number``, pushing it and those below down."""
        with self.lock:
            rows = self.sheets[sheet]
            while len(rows) < number - 1:
                rows.append([])
            rows.insert(number - 1, list(values))

    def delete_row(self, sheet: str, number: int) -> None:
        with self.lock:
            del self.sheets[sheet][number - 1]

    def cell(self, sheet: str, cell: str) -> str:
        letters, digits = _A1.match(cell).groups()
        row, col = int(digits) - 1, column_number(letters) - 1
        with self.lock:
            rows = self.sheets[sheet]
            if row >= len(rows) or col >= len(rows[row]):
                return ""
            return rows[row][col]

    def row(self, sheet: str, number: int) -> list[str]:
        """Row ``number``'s cells from column A, without trailing empty ones."""
        with self.lock:
            rows = self.sheets[sheet]
            cells = list(rows[number - 1]) if number <= len(rows) else []
        while cells and cells[-1] == "":
            cells.pop()
        return cells

    # -- the model --------------------------------------------------------------------

    def _put(self, sheet: str, row: int, col: int, text: str) -> None:
        rows = self.sheets[sheet]
        while len(rows) <= row:
            rows.append([])
        cells = rows[row]
        while len(cells) <= col:
            cells.append("")
        cells[col] = text

    def parse_range(self, text: str):
        """``(sheet, first row, first col, last row, last col)``, 0-based and inclusive."""
        sheet_part, bang, cells = text.rpartition("!")
        if not bang:
            # A bare name is a whole sheet; otherwise it is cells of the first sheet.
            if text in self.sheets or (text.startswith("'") and text.endswith("'")):
                sheet_part, cells = text, ""
            else:
                sheet_part = ""
        if sheet_part.startswith("'"):
            if len(sheet_part) < 2 or not sheet_part.endswith("'"):
                raise RangeError(text)
            sheet = sheet_part[1:-1].replace("''", "'")
        else:
            sheet = sheet_part or next(iter(self.sheets))
        if sheet not in self.sheets:
            raise RangeError(text)
        if not cells:
            return sheet, 0, 0, self.grid_rows(sheet) - 1, GRID_COLUMNS - 1
        start, colon, end = cells.partition(":")
        m1, m2 = _A1.match(start), _A1.match(end if colon else start)
        if m1 is None or m2 is None or not start or (colon and not end):
            raise RangeError(text)
        (c1, r1), (c2, r2) = m1.groups(), m2.groups()
        row1 = int(r1) - 1 if r1 else 0
        col1 = column_number(c1) - 1 if c1 else 0
        row2 = int(r2) - 1 if r2 else self.grid_rows(sheet) - 1
        col2 = column_number(c2) - 1 if c2 else GRID_COLUMNS - 1
        if min(row1, col1, row2, col2) < 0 or row2 < row1 or col2 < col1:
            raise RangeError(text)
        return sheet, row1, col1, row2, col2

    @staticmethod
    def a1(sheet, row1, col1, row2, col2) -> str:
        quoted = "'" + sheet.replace("'", "''") + "'"
        return f"{quoted}!{column_letters(col1 + 1)}{row1 + 1}:{column_letters(col2 + 1)}{row2 + 1}"

    def grid_rows(self, sheet: str) -> int:
        return max(GRID_ROWS, len(self.sheets[sheet]))

    def read(self, text: str, major: str) -> dict:
        sheet, row1, col1, row2, col2 = self.parse_range(text)
        row2, col2 = min(row2, self.grid_rows(sheet) - 1), min(col2, GRID_COLUMNS - 1)
        rows = self.sheets[sheet]
        grid = []
        for r in range(row1, row2 + 1):
            cells = rows[r] if r < len(rows) else []
            grid.append([cells[c] if c < len(cells) else "" for c in range(col1, col2 + 1)])
        if major == "COLUMNS":
            grid = [list(col) for col in zip(*grid, strict=True)] if grid else []
        for line in grid:  # Google leaves out trailing empty cells, then trailing empty rows
            while line and line[-1] == "":
                line.pop()
        while grid and not grid[-1]:
            grid.pop()
        answer = {"range": self.a1(sheet, row1, col1, row2, col2), "majorDimension": major}
        if grid:
            answer["values"] = grid
        return answer

    def write(self, value_range: dict) -> dict:
        text = value_range.get("range", "")
        sheet, row1, col1, row2, col2 = self.parse_range(text)
        values = value_range.get("values", [])
        if value_range.get("majorDimension", "ROWS") == "COLUMNS":
            width = max((len(c) for c in values), default=0)
            values = [[c[i] if i < len(c) else None for c in values] for i in range(width)]
        height, width = len(values), max((len(r) for r in values), default=0)
        if row1 + height - 1 > row2 or col1 + width - 1 > col2:
            raise ValueError(
                f"Requested writing within range [{text}], but tried writing "
                f"{height} rows and {width} columns"
            )
        if row1 + height > self.grid_rows(sheet) or col1 + width > GRID_COLUMNS:
            raise ValueError(f"Range ({text}) exceeds grid limits")
        cells = 0
        for i, line in enumerate(values):
            for j, value in enumerate(line):
                if value is None:  # null: leave the cell as it is
                    continue
                text_value = value if isinstance(value, str) else json.dumps(value)
                self._put(sheet, row1 + i, col1 + j, text_value)
                cells += 1
        self.written.append(text)
        return {"spreadsheetId": self.spreadsheet_id,
                "updatedRange": self.a1(sheet, row1, col1, row1 + max(height, 1) - 1,
                                        col1 + max(width, 1) - 1),
                "updatedRows": height, "updatedColumns": width, "updatedCells": cells}  # fmt: skip


def _handler(fake: FakeSheets):
    class Handler(FakeHandler):
        def reply(self, status, body, headers=()):
            self.send_json(status, body, headers)

        def error(self, status, message, headers=()):
            status_name = _STATUS.get(status, "UNKNOWN")
            self.reply(status, {"error": {"code": status, "message": message,
                                          "status": status_name}}, headers)  # fmt: skip

        def api_call(self, method):
            """(spreadsheet id, method name, query) if this request may go on, else None."""
            url = urllib.parse.urlsplit(self.path)
            parts = url.path.split("/")
            # /v4/spreadsheets/{id}/values/{range} or /v4/spreadsheets/{id}/values:batchX
            if len(parts) < 5 or parts[1:3] != ["v4", "spreadsheets"]:
                self.body()
                self.error(404, "Requested entity was not found.")
                return None
            auth = self.headers.get("Authorization", "")
            with fake.lock:
                ok = auth.startswith("Bearer ") and auth[7:] in fake.tokens
            if not ok:
                self.body()
                self.error(401, "Request had invalid authentication credentials.")
                return None
            with fake.lock:
                failure = fake.fail_next.pop(0) if fake.fail_next else None
                fake.requests.append((method, url.path))
            if failure is not None and failure[0] is not None:
                self.body()
                status, retry_after = failure
                headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
                self.error(status, f"injected {_STATUS.get(status, status)}", headers)
                return None
            if parts[3] != fake.spreadsheet_id:
                self.body()
                self.error(404, "Requested entity was not found.")
                return None
            name = urllib.parse.unquote("/".join(parts[4:]))
            return name, urllib.parse.parse_qs(url.query)

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path == "/token":
                form = urllib.parse.parse_qs(self.body().decode())
                got = tuple(
                    form.get(k, [""])[0] for k in ("client_id", "client_secret", "refresh_token")
                )
                if form.get("grant_type") != ["refresh_token"] or got != fake.credentials:
                    return self.reply(400, {"error": "invalid_grant",
                                            "error_description": "Bad Request"})  # fmt: skip
                token = uuid.uuid4().hex
                with fake.lock:
                    fake.tokens.add(token)
                    fake.token_grants += 1
                return self.reply(200, {"access_token": token, "expires_in": 3599,
                                        "token_type": "Bearer"})  # fmt: skip
            call = self.api_call("POST")
            if call is None:
                return None
            name, _ = call
            if name != "values:batchUpdate":
                self.body()
                return self.error(404, f"Method not found: {name!r}")
            try:
                request = json.loads(self.body() or b"{}")
            except ValueError:
                return self.error(400, "Invalid JSON payload received.")
            option = request.get("valueInputOption")
            if option is None:
                return self.error(400, "'valueInputOption' is required but not specified")
            if option not in ("RAW", "USER_ENTERED"):
                return self.error(400, f"Invalid value at 'value_input_option' ({option!r})")
            with fake.lock:
                hook = fake.before_update.pop(0) if fake.before_update else None
            if hook is not None:
                hook()
            responses = []
            with fake.lock:
                saved = {k: [list(r) for r in v] for k, v in fake.sheets.items()}
                try:
                    for value_range in request.get("data", []):
                        responses.append(fake.write(value_range))
                except RangeError as e:
                    fake.sheets = saved  # a batch is all or nothing
                    return self.error(400, f"Unable to parse range: {e}")
                except ValueError as e:
                    fake.sheets = saved
                    return self.error(400, str(e))
            return self.reply(200, {
                "spreadsheetId": fake.spreadsheet_id,
                "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0]
                                           for r in responses}),
                "responses": responses,
            })  # fmt: skip

        def do_GET(self):
            call = self.api_call("GET")
            if call is None:
                return None
            name, query = call
            major = query.get("majorDimension", ["ROWS"])[0]
            if major not in ("ROWS", "COLUMNS"):
                return self.error(400, f"Invalid value at 'major_dimension' ({major!r})")
            if name == "values:batchGet":
                ranges = query.get("ranges", [])
            elif name.startswith("values/"):
                ranges = [name[len("values/") :]]
            else:
                return self.error(404, f"Method not found: {name!r}")
            with fake.lock:
                try:
                    answers = [fake.read(r, major) for r in ranges]
                except RangeError as e:
                    return self.error(400, f"Unable to parse range: {e}")
                hook = fake.on_get.pop(0) if fake.on_get else None
            if hook is not None:
                hook()  # the sheet changes after the snapshot: the answer is already stale
            if name == "values:batchGet":
                return self.reply(200, {"spreadsheetId": fake.spreadsheet_id,
                                        "valueRanges": answers})  # fmt: skip
            return self.reply(200, answers[0])

    return Handler
