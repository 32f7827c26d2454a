"""The audit trail as the command line shows it: a table of changes, or JSON.

``fastseg events history ID`` and ``fastseg audit`` print the rows of
:mod:`services.db.audit` the same way; the events API has its own JSON.
"""

import datetime as dt
import json
from typing import Any, TextIO

from services.db.audit import changes_of

__all__ = ["MAX_VALUE", "print_json", "print_table"]

MAX_VALUE = 60  # characters of a value in the table; --json has them whole


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def print_json(rows: list[Any], out: TextIO) -> None:
    """A JSON list of the rows, every column, times naive UTC in ISO 8601."""
    json.dump([{k: _json_value(v) for k, v in r._asdict().items()} for r in rows], out, indent=2)
    out.write("\n")


def _short(value: Any) -> str:
    text = "-" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def print_table(rows: list[Any], out: TextIO, empty: str) -> None:
    """One line per write (time, who, from where, what), then one per column: old -> new."""
    if not rows:
        print(empty, file=out)
        return
    print(f"{'TIME (UTC)':<19}  {'WHO':<24} {'FROM':<15} {'OPERATION':<9} ROW", file=out)
    for row in rows:
        when = row.time.isoformat(sep=" ", timespec="seconds")
        print(
            f"{when:<19}  {row.actor:<24} {row.address or '-':<15} {row.operation:<9} "
            f"{row.table_name} {row.row_key}",
            file=out,
        )
        for column, old, new in changes_of(row):
            print(f"    {column}: {_short(old)} -> {_short(new)}", file=out)
