"""An interactive flamegraph as one self-contained SVG file.

Root at the bottom, callees stacked above their callers, siblings in name order,
each frame as wide as its share of the samples. In a browser: hovering a frame
shows its name, seconds and share; clicking zooms into it (its ancestors stay,
dimmed, and clicking one of them or "Reset zoom" zooms back out); "Search" takes
a regular expression, highlights the matching frames and shows their share.
The script is a few lines of plain JavaScript inside the file.
"""

import zlib
from xml.sax.saxutils import escape, quoteattr

WIDTH = 1200
PAD = 10
FRAME_HEIGHT = 16
TOP = 50  # title and controls
BOTTOM = 30  # the details line
CHAR_WIDTH = 7  # a rough average for 12 px Verdana, to fit labels in frames
MIN_WIDTH = 0.1  # px: narrower frames are left out (they could not be seen)

SCRIPT = """
var W = %(width)d, PAD = %(pad)d, CW = %(char_width)d;
var frames = Array.prototype.slice.call(document.querySelectorAll("g.frame"));
var details = document.getElementById("details");
var matched = document.getElementById("matched");
function num(g, k) { return parseFloat(g.getAttribute("data-" + k)); }
function label(g, w) {
  var n = g.getAttribute("data-n"), c = Math.floor((w - 6) / CW);
  g.querySelector("text").textContent =
    c < 3 ? "" : (n.length <= c ? n : n.slice(0, c - 2) + "..");
}
function place(g, x, w) {
  var r = g.querySelector("rect"), t = g.querySelector("text");
  r.setAttribute("x", x.toFixed(2)); r.setAttribute("width", w.toFixed(2));
  t.setAttribute("x", (x + 3).toFixed(2)); label(g, w);
}
function zoom(target) {
  var x0 = num(target, "x"), w0 = num(target, "w"), d0 = num(target, "d"), eps = 1e-9;
  var span = W - 2 * PAD;
  frames.forEach(function (g) {
    var x = num(g, "x"), w = num(g, "w"), d = num(g, "d");
    g.classList.remove("parent");
    if (d >= d0 && x >= x0 - eps && x + w <= x0 + w0 + eps) {
      g.style.display = "";
      place(g, PAD + (x - x0) / w0 * span, w / w0 * span);
    } else if (d < d0 && x <= x0 + eps && x + w >= x0 + w0 - eps) {
      g.style.display = ""; g.classList.add("parent"); place(g, PAD, span);
    } else {
      g.style.display = "none";
    }
  });
}
function search() {
  var text = prompt("Highlight frames matching this regular expression:", "");
  if (text === null) return;
  var re;
  try { re = new RegExp(text); } catch (e) {
    alert("Not a regular expression: " + e.message); return;
  }
  var covered = [], share = 0;
  frames.slice().sort(function (a, b) { return num(a, "d") - num(b, "d"); }).forEach(function (g) {
    var hit = text !== "" && re.test(g.getAttribute("data-n"));
    g.querySelector("rect").setAttribute("fill", hit ? "rgb(230,0,230)" : g.getAttribute("data-c"));
    if (!hit) return;
    var x = num(g, "x"), w = num(g, "w");
    var inside = covered.some(function (c) { return x >= c[0] - 1e-9 && x + w <= c[1] + 1e-9; });
    if (!inside) { covered.push([x, x + w]); share += w; }
  });
  matched.textContent = text === "" ? "" : "Matched: " + (share * 100).toFixed(2) + "%%";
}
frames.forEach(function (g) {
  g.addEventListener("click", function () { zoom(g); });
  g.addEventListener("mouseover", function () {
    details.textContent = g.querySelector("title").textContent;
  });
  g.addEventListener("mouseout", function () { details.textContent = " "; });
});
document.getElementById("reset").addEventListener("click", function () { zoom(frames[0]); });
document.getElementById("search").addEventListener("click", search);
"""

STYLE = """
text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }
g.frame { cursor: pointer; }
g.frame text { pointer-events: none; }
g.frame:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
g.parent { opacity: 0.5; }
.control { cursor: pointer; fill: rgb(0,0,160); }
#title { font-size: 17px; }
"""


class _Node:
    __slots__ = ("children", "name", "value")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0.0
        self.children: dict[str, _Node] = {}


def _tree(stacks: dict[str, float]) -> _Node:
    root = _Node("all")
    for stack, seconds in stacks.items():
        if seconds <= 0:
            continue
        root.value += seconds
        node = root
        for frame in stack.split(";"):
            node = node.children.setdefault(frame, _Node(frame))
            node.value += seconds
    return root


def _color(name: str) -> str:
    """A warm colour that depends only on the function's name, so runs compare by eye."""
    h = zlib.crc32(name.encode("utf-8"))
    r = 205 + (h & 0x3F) % 50
    g = 80 + (h >> 8 & 0xFF) % 150
    b = (h >> 16 & 0xFF) % 60
    return f"rgb({r},{g},{b})"


def _depth(node: _Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _label(name: str, width: float) -> str:
    chars = int((width - 6) // CHAR_WIDTH)
    if chars < 3:
        return ""
    return name if len(name) <= chars else name[: chars - 2] + ".."


def render(stacks: dict[str, float], title: str = "Flame graph") -> str:
    """The SVG document for ``{stack: seconds}``; raises ValueError if nothing was sampled."""
    root = _tree(stacks)
    if root.value <= 0:
        raise ValueError("no samples to draw: every stack has 0 seconds")
    depth = _depth(root)
    height = TOP + depth * FRAME_HEIGHT + BOTTOM
    span = WIDTH - 2 * PAD
    total = root.value
    out = [
        '<?xml version="1.0" standalone="no"?>\n',
        f'<svg version="1.1" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg">\n',
        f"<style>{STYLE}</style>\n",
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="rgb(248,248,248)"/>\n',
        f'<text id="title" x="{WIDTH // 2}" y="24" text-anchor="middle">{escape(title)}</text>\n',
        f'<text id="reset" class="control" x="{PAD}" y="24">Reset zoom</text>\n',
        f'<text id="search" class="control" x="{WIDTH - PAD}" y="24" '
        'text-anchor="end">Search</text>\n',
        f'<text id="matched" x="{WIDTH - PAD}" y="{height - 10}" text-anchor="end"> </text>\n',
        f'<text id="details" x="{PAD}" y="{height - 10}"> </text>\n',
    ]

    def draw(node: _Node, level: int, start: float) -> None:
        share = node.value / total
        width = share * span
        if width < MIN_WIDTH:
            return
        x = PAD + start / total * span
        y = height - BOTTOM - (level + 1) * FRAME_HEIGHT
        color = _color(node.name)
        tip = f"{node.name} ({node.value:.6g} s, {share * 100:.2f}%)"
        out.append(
            f'<g class="frame" data-n={quoteattr(node.name)} data-x="{start / total:.9f}" '
            f'data-w="{share:.9f}" data-d="{level}" data-c="{color}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{x:.2f}" y="{y}" width="{width:.2f}" height="{FRAME_HEIGHT - 1}" '
            f'fill="{color}" rx="2" ry="2"/>'
            f'<text x="{x + 3:.2f}" y="{y + FRAME_HEIGHT - 4}">{escape(_label(node.name, width))}'
            "</text></g>\n"
        )
        offset = start
        for name in sorted(node.children):
            child = node.children[name]
            draw(child, level + 1, offset)
            offset += child.value

    draw(root, 0, 0.0)
    script = SCRIPT % {"width": WIDTH, "pad": PAD, "char_width": CHAR_WIDTH}
    out.append(f"<script><![CDATA[{script}]]></script>\n</svg>\n")
    return "".join(out)
