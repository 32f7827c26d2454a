"""The part of the Google Sheets API v4 the sync uses: read ranges, write cells.

``spreadsheets.values.batchGet`` reads several A1 ranges at once, as rows
(``majorDimension=ROWS``) of the text each cell shows (``FORMATTED_VALUE``);
Google leaves out trailing empty cells of a row and trailing empty rows.
``spreadsheets.values.batchUpdate`` writes several ranges in one request;
``valueInputOption=RAW`` stores the text as given, so an id or a link is never
reinterpreted as a number, date or formula.

Errors: 429 (quota) and 5xx are retryable; a 401 gets one fresh token and one
more try; other statuses (a wrong spreadsheet id, no permission) are not.
"""

import logging
import re

import requests

from services.runtime.google_oauth import RefreshToken, TokenError, describe_response

logger = logging.getLogger(__name__)

__all__ = [
    "API_BASE",
    "SheetsClient",
    "SheetsError",
    "column_index",
    "column_letter",
    "quote_sheet",
]

API_BASE = "https://sheets.googleapis.com"
TIMEOUT = 30  # seconds for one request
_COLUMN = re.compile(r"[A-Z]{1,3}", re.ASCII)


class SheetsError(Exception):
    """A request failed. ``kind`` labels the metric (an HTTP status, or ``connection``)."""

    def __init__(
        self, message: str, *, kind: str, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after


def column_index(letters: str) -> int:
    """``A`` is 0, ``Z`` 25, ``AA`` 26; ValueError for anything but column letters."""
    if not isinstance(letters, str) or not _COLUMN.fullmatch(letters.strip().upper()):
        raise ValueError(f"{letters!r} is not a column (A, B, ... Z, AA, ...)")
    index = 0
    for char in letters.strip().upper():
        index = index * 26 + ord(char) - ord("A") + 1
    return index - 1


def column_letter(index: int) -> str:
    """The inverse of :func:`column_index`."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def quote_sheet(name: str) -> str:
    """A worksheet name as A1 notation wants it: in single quotes, quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return max(0.0, float(resp.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


class SheetsClient:
    """One spreadsheet, through one HTTP session and one set of credentials."""

    def __init__(
        self,
        oauth: RefreshToken,
        spreadsheet_id: str,
        *,
        api_base: str = API_BASE,
        session: requests.Session | None = None,
    ) -> None:
        self.oauth = oauth
        self.session = session or oauth.session
        self.spreadsheet_id = spreadsheet_id
        self.url = f"{api_base.rstrip('/')}/v4/spreadsheets/{spreadsheet_id}/values"

    def _token(self, refresh: bool) -> str:
        try:
            return self.oauth.access_token(refresh)
        except TokenError as e:
            raise SheetsError(str(e), kind="token", retryable=e.retryable) from e

    def _request(self, method: str, url: str, what: str, **kwargs) -> dict:
        for refresh in (False, True):
            headers = {"Authorization": f"Bearer {self._token(refresh)}"}
            try:
                resp = self.session.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as e:
                raise SheetsError(
                    f"Google Sheets {what} failed: {e}", kind="connection", retryable=True
                ) from e
            if resp.status_code != 401:
                break
            logger.info("access token refused: refreshing it")
        if resp.status_code == 200:
            try:
                return resp.json()
            except ValueError as e:
                raise SheetsError(
                    f"Google Sheets {what} sent something not JSON: {describe_response(resp)}",
                    kind="bad_response",
                    retryable=True,
                ) from e
        retryable = resp.status_code == 429 or resp.status_code >= 500
        hint = "" if retryable else ": check spreadsheet_id and that the account may edit it"
        raise SheetsError(
            f"Google Sheets {what} failed: {describe_response(resp)}{hint}",
            kind=str(resp.status_code),
            retryable=retryable,
            retry_after=_retry_after(resp),
        )

    def batch_get(self, ranges: list[str]) -> list[list[list[str]]]:
        """The rows of each A1 range (ragged: trailing empty cells are left out)."""
        body = self._request(
            "GET",
            f"{self.url}:batchGet",
            "read",
            params={
                "ranges": ranges,
                "majorDimension": "ROWS",
                "valueRenderOption": "FORMATTED_VALUE",
            },
        )
        value_ranges = body.get("valueRanges", [])
        if len(value_ranges) != len(ranges):
            raise SheetsError(
                f"Google Sheets answered {len(value_ranges)} ranges for {len(ranges)} asked",
                kind="bad_response",
                retryable=True,
            )
        return [[[str(c) for c in row] for row in vr.get("values", [])] for vr in value_ranges]

    def batch_update(self, data: list[tuple[str, list[list[str]]]]) -> int:
        """Write each ``(A1 range, rows)`` as raw text; returns the cells Google updated."""
        if not data:
            return 0
        body = self._request(
            "POST",
            f"{self.url}:batchUpdate",
            "write",
            json={
                "valueInputOption": "RAW",
                "data": [
                    {"range": rng, "majorDimension": "ROWS", "values": values}
                    for rng, values in data
                ],
            },
        )
        return int(body.get("totalUpdatedCells", 0))
