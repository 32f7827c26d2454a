"""The coverage map as SVG: a row per quality, a column per hour, a line per day.

Each cell draws its hour to scale: complete video green, partial or suspect
video amber, holes red (at least a pixel wide, so a two-second hole in a
week still shows). Hovering a cell shows its hour, the seconds covered and each
hole's start and length in UTC. Cells carry ``data-quality`` and ``data-hour``
(``YYYY-MM-DDTHH``) for pages that use the map to navigate.
"""

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from services.archive.coverage import HOUR, HOUR_US, Cell
from services.archive.readable import count, duration, utc

__all__ = ["COLOURS", "render_svg"]

COLOURS = {"full": "#2e9e4f", "partial": "#e8a317", "hole": "#d62728"}
LABEL_W = 150
CELL_W = 24
ROW_H = 14
LINE_GAP = 6
HEADER_H = 18
LEGEND_H = 24
LEGEND_W = 300  # room for the legend however few the columns
HOLES_LISTED = 12  # per cell tooltip; the rest are counted


def _title(cell: Cell) -> str:
    end = cell.hour + dt.timedelta(hours=1)
    share = cell.full_seconds / 36
    lines = [
        f"{cell.quality} {cell.hour:%Y-%m-%d %H:00}Z to {end:%H:00}Z",
        f"{cell.full_seconds:,.1f} s of 3,600 s complete ({share:.1f}%), "
        f"{cell.partial_seconds:,.1f} s partial or suspect, "
        f"{count(cell.segments, 'segment')} starting in this hour",
    ]
    if cell.holes:
        lines.append(f"{count(len(cell.holes), 'hole')}, {duration(cell.hole_seconds)} missing:")
        for a, b in cell.holes[:HOLES_LISTED]:
            lines.append(f"  {utc(cell.at(a))} for {duration((b - a) / 1e6)}")
        if len(cell.holes) > HOLES_LISTED:
            lines.append(f"  and {len(cell.holes) - HOLES_LISTED} more")
    else:
        lines.append("no holes")
    return "\n".join(lines)


def _cell(cell: Cell, x: float, y: float) -> list[str]:
    out = [
        f'<g class="cell" data-quality={quoteattr(cell.quality)} '
        f'data-hour="{cell.hour:%Y-%m-%dT%H}"><title>{escape(_title(cell))}</title>',
        f'<rect x="{x}" y="{y}" width="{CELL_W - 1}" height="{ROW_H - 1}" '
        f'fill="{COLOURS["hole"]}"/>',
    ]
    scale = (CELL_W - 1) / HOUR_US
    for kind, spans in (("full", cell.full), ("partial", cell.partial), ("hole", cell.holes)):
        if kind == "hole" and cell.hole_seconds * 2 > HOUR_US / 1e6:
            break  # mostly red already: hairline holes would hide the little video there is
        for a, b in spans:
            w = (b - a) * scale
            if kind == "hole" and w >= 1:
                continue  # the background shows it
            out.append(
                f'<rect x="{x + a * scale:.2f}" y="{y}" width="{max(w, 1):.2f}" '
                f'height="{ROW_H - 1}" fill="{COLOURS[kind]}"/>'
            )
    out.append("</g>")
    return out


def render_svg(channel: str, qualities: list[str], cells: dict[str, list[Cell]]) -> str:
    """The map of ``cells[quality]`` (equal runs of consecutive hours, one per quality)."""
    hours = [c.hour for c in cells[qualities[0]]] if qualities else []
    if len(hours) <= 24:
        lines = [hours] if hours else []
        columns = [f"{h:%H}" for h in hours]
    else:  # a day per line, columns are the hours of the UTC day
        first_day = hours[0].replace(hour=0)
        days = (hours[-1] - first_day).days + 1
        day = dt.timedelta(days=1)
        lines = [[first_day + d * day + h * HOUR for h in range(24)] for d in range(days)]
        columns = [f"{h:02d}" for h in range(24)]
    index = {h: i for i, h in enumerate(hours)}
    line_h = ROW_H * len(qualities) + LINE_GAP
    width = max(LABEL_W + CELL_W * len(columns) + 8, LABEL_W + LEGEND_W)
    height = HEADER_H + line_h * len(lines) + LEGEND_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" '
        f'class="coverage-map" data-channel={quoteattr(channel)}>',
        f"<title>{escape(f'coverage of {channel}, hours in UTC')}</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for i, text in enumerate(columns):
        out.append(f'<text x="{LABEL_W + i * CELL_W + CELL_W / 2}" y="12" '
                   f'text-anchor="middle" fill="#444">{text}</text>')  # fmt: skip
    for n, line in enumerate(lines):
        y0 = HEADER_H + n * line_h
        for r, quality in enumerate(qualities):
            y = y0 + r * ROW_H
            label = f"{line[0]:%Y-%m-%d} {quality}" if r == 0 else quality
            out.append(f'<text x="{LABEL_W - 4}" y="{y + ROW_H - 3}" text-anchor="end" '
                       f'fill="#222">{escape(label)}</text>')  # fmt: skip
            for col, hour in enumerate(line):
                at = index.get(hour)
                if at is not None:
                    out += _cell(cells[quality][at], LABEL_W + col * CELL_W, y)
    y = height - LEGEND_H + 8
    x = LABEL_W
    for kind, text in (("full", "complete"), ("partial", "partial or suspect"),
                       ("hole", "no video")):  # fmt: skip
        out.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[kind]}"/>')
        out.append(f'<text x="{x + 14}" y="{y + 9}" fill="#222">{text}</text>')
        x += 24 + 6 * len(text)
    out.append("</svg>")
    return "\n".join(out) + "\n"
