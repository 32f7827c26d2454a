"""The flamegraph SVG's script, run in headless Chromium: zoom, hover details, search, reset.

A harness script appended to a rendered SVG drives the page the way a user would
(dispatching click and mouseover events, answering the search prompt) and
leaves what it saw as JSON in an attribute, which ``--dump-dom`` prints.
"""

import html
import json
import os
import re
import shutil
import subprocess

import pytest

from profiling.renderers import svg

STACKS = {
    "main(app);serve(app.http);parse(app.http)": 1.5,
    "main(app);serve(app.http)": 0.25,
    "main(app);cut(app.cutter);<lambda>(app.cutter)": 2.0,
}

HARNESS = """<script><![CDATA[
function named(n) {
  return frames.filter(function (f) { return f.getAttribute("data-n") === n; })[0];
}
function width(n) { return parseFloat(named(n).querySelector("rect").getAttribute("width")); }
function hidden() {
  return frames.filter(function (f) { return f.style.display === "none"; })
    .map(function (f) { return f.getAttribute("data-n"); }).sort();
}
var out = {};
out.before = {serve: width("serve(app.http)"), parse: width("parse(app.http)")};
named("serve(app.http)").dispatchEvent(new MouseEvent("click"));
out.zoomed = {
  serve: width("serve(app.http)"), parse: width("parse(app.http)"), all: width("all"),
  hidden: hidden(), dimmed: named("main(app)").classList.contains("parent"),
  label: named("serve(app.http)").querySelector("text").textContent
};
named("parse(app.http)").dispatchEvent(new MouseEvent("mouseover"));
out.details = document.getElementById("details").textContent;
window.prompt = function () { return "^(parse|<lambda>)"; };
document.getElementById("search").dispatchEvent(new MouseEvent("click"));
out.highlighted = frames.filter(function (f) {
  return f.querySelector("rect").getAttribute("fill") === "rgb(230,0,230)";
}).map(function (f) { return f.getAttribute("data-n"); }).sort();
out.matched = document.getElementById("matched").textContent;
document.getElementById("reset").dispatchEvent(new MouseEvent("click"));
out.reset = {hidden: hidden(), serve: width("serve(app.http)")};
document.documentElement.setAttribute("data-result", JSON.stringify(out));
]]></script>
"""


@pytest.fixture
def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def run_in_browser(chromium, document, tmp_path):
    page = tmp_path / "flame.svg"
    page.write_text(document.replace("</svg>", HARNESS + "</svg>"))
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'data-result="([^"]*)"', proc.stdout)
    assert match, f"the harness left no result (script error?)\n{proc.stderr[-3000:]}"
    return json.loads(html.unescape(match[1]))


def test_zoom_hover_search_and_reset_work_in_a_browser(chromium, tmp_path):
    result = run_in_browser(chromium, svg.render(STACKS), tmp_path)
    span = svg.WIDTH - 2 * svg.PAD
    # serve is 1.75 of 3.75 s before zooming, the whole width after.
    assert result["before"]["serve"] == pytest.approx(span * 1.75 / 3.75, abs=0.01)
    zoomed = result["zoomed"]
    assert zoomed["serve"] == pytest.approx(span)
    assert zoomed["parse"] == pytest.approx(span * 1.5 / 1.75, abs=0.01)
    assert zoomed["all"] == pytest.approx(span)  # ancestors stay, full width...
    assert zoomed["dimmed"]  # ...and dimmed
    assert zoomed["hidden"] == ["<lambda>(app.cutter)", "cut(app.cutter)"]
    assert zoomed["label"] == "serve(app.http)"
    assert result["details"] == "parse(app.http) (1.5 s, 40.00%)"
    assert result["highlighted"] == ["<lambda>(app.cutter)", "parse(app.http)"]
    assert result["matched"] == "Matched: 93.33%"  # (1.5 + 2.0) / 3.75
    assert result["reset"] == {"hidden": [], "serve": pytest.approx(result["before"]["serve"])}
