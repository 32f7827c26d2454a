"""python -m profiling.flamegraph against real HTTP servers on 127.0.0.1, and its renderers."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import prometheus_client
import pytest

from profiling import StackSampler
from profiling.flamegraph import main
from profiling.renderers import folded, speedscope, svg

SVG_NS = "{http://www.w3.org/2000/svg}"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NODE_A = """\
# HELP fastseg_process_stack_seconds_total CPU seconds sampled per stack
# TYPE fastseg_process_stack_seconds_total counter
fastseg_process_stack_seconds_total{stack="main(app);serve(app.http);parse(app.http)"} 1.5
fastseg_process_stack_seconds_total{stack="main(app);serve(app.http)"} 0.25
fastseg_process_stack_seconds_total{stack="main(app);cut(app.cutter);<lambda>(app.cutter)"} 2.0
process_cpu_seconds_total 12.0
"""
NODE_B = """\
# TYPE fastseg_process_stack_seconds_total counter
fastseg_process_stack_seconds_total{stack="main(app);serve(app.http);parse(app.http)"} 0.5
fastseg_process_stack_seconds_total{stack="main(app);janitor(app.janitor)"} 1.0
"""
NO_SAMPLER = """\
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.0
"""


def read_folded(path):
    stacks = {}
    for line in path.read_text().splitlines():
        stack, _, seconds = line.rpartition(" ")
        stacks[stack] = float(seconds)
    return stacks


def svg_titles(path):
    tree = ET.parse(path)
    assert tree.getroot().tag == f"{SVG_NS}svg"
    return [t.text for t in tree.getroot().iter(f"{SVG_NS}title")]


def run_cli(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def spin_until_sampled(sampler, frame):
    """Burn CPU until a sampled stack contains ``frame`` (give up after 60 s of CPU)."""
    start = time.process_time()
    while time.process_time() - start < 60:
        for _ in range(10_000):
            pass
        if any(frame in s for s in sampler.counts()):
            return
    raise AssertionError(f"{frame!r} was never sampled")


def hot_function_for_the_flamegraph(sampler):
    spin_until_sampled(sampler, f"hot_function_for_the_flamegraph({__name__})")


@pytest.mark.usefixtures("no_sampler_left_running")
def test_a_real_sampler_served_over_http_becomes_a_flamegraph(
    registry, http_server, tmp_path, capsys
):
    sampler = StackSampler(0.001, registry=registry)
    sampler.start()
    try:
        hot_function_for_the_flamegraph(sampler)
    finally:
        sampler.stop()
    counts = sampler.counts()
    url = http_server.route("/metrics", lambda path: prometheus_client.generate_latest(registry))
    out_svg, out_folded, out_json = tmp_path / "f.svg", tmp_path / "f.txt", tmp_path / "f.json"
    code, _, err = run_cli(
        ["--url", url, "-o", str(out_svg), "--folded", str(out_folded)]
        + ["--speedscope", str(out_json)],
        capsys,
    )
    assert code == 0, err
    assert f"{len(counts)} stacks" in err
    # The folded totals are the counters the node served.
    assert read_folded(out_folded) == pytest.approx(counts)
    assert sum(read_folded(out_folded).values()) == pytest.approx(sum(counts.values()))
    titles = svg_titles(out_svg)
    assert any(t.startswith(f"hot_function_for_the_flamegraph({__name__}) (") for t in titles)
    assert any(t.startswith("all (") and t.endswith(", 100.00%)") for t in titles)
    profile = json.loads(out_json.read_text())
    names = {frame["name"] for frame in profile["shared"]["frames"]}
    assert "hot_function_for_the_flamegraph" in names
    assert http_server.requests == ["/metrics"]


def test_several_nodes_are_merged(http_server, tmp_path, capsys):
    a = http_server.route("/a/metrics", NODE_A)
    b = http_server.route("/b/metrics", NODE_B)
    out = tmp_path / "merged.txt"
    code, _, err = run_cli(["--url", a, "--url", b, "--folded", str(out)], capsys)
    assert code == 0, err
    assert read_folded(out) == {
        "main(app);cut(app.cutter);<lambda>(app.cutter)": 2.0,
        "main(app);janitor(app.janitor)": 1.0,
        "main(app);serve(app.http)": 0.25,
        "main(app);serve(app.http);parse(app.http)": 2.0,
    }
    assert "4 stacks, 5.25 s sampled" in err


def test_filter_keeps_matching_stacks(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", NODE_A)
    out = tmp_path / "f.txt"
    code, _, err = run_cli(["--url", url, "--filter", r"parse\(", "--folded", str(out)], capsys)
    assert code == 0, err
    assert read_folded(out) == {"main(app);serve(app.http);parse(app.http)": 1.5}


def test_svg_is_interactive_xml_with_shares(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", NODE_A)
    out = tmp_path / "f.svg"
    code, _, err = run_cli(["--url", url, "-o", str(out), "--title", "node <a> & b"], capsys)
    assert code == 0, err
    root = ET.parse(out).getroot()
    titles = svg_titles(out)
    # parse is 1.5 of 3.75 s; <lambda> is escaped and survives the round trip.
    assert "parse(app.http) (1.5 s, 40.00%)" in titles
    assert "<lambda>(app.cutter) (2 s, 53.33%)" in titles
    assert "serve(app.http) (1.75 s, 46.67%)" in titles
    frames = [g for g in root.iter(f"{SVG_NS}g") if g.get("class") == "frame"]
    assert len(frames) == 6  # all, main, serve, parse, cut, <lambda>
    by_name = {g.get("data-n"): g for g in frames}
    # Children sit above their parent, inside its span.
    parent, child = by_name["serve(app.http)"], by_name["parse(app.http)"]
    assert int(child.get("data-d")) == int(parent.get("data-d")) + 1
    assert float(child.get("data-x")) >= float(parent.get("data-x"))
    assert float(child.get("data-w")) <= float(parent.get("data-w"))
    texts = {t.get("id"): t for t in root.iter(f"{SVG_NS}text") if t.get("id")}
    assert texts["title"].text == "node <a> & b"
    assert {"reset", "search", "details", "matched"} <= set(texts)
    script = "".join(s.text for s in root.iter(f"{SVG_NS}script"))
    for handler in ("function zoom(", "function search(", '"mouseover"', '"click"'):
        assert handler in script


def test_speedscope_is_a_sampled_profile(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", NODE_A)
    out = tmp_path / "f.json"
    code, _, err = run_cli(["--url", url, "--speedscope", str(out)], capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert {"name": "<lambda>", "file": "app.cutter"} in frames
    (profile,) = doc["profiles"]
    assert profile["type"] == "sampled"
    assert profile["unit"] == "seconds"
    assert len(profile["samples"]) == len(profile["weights"]) == 3
    assert profile["endValue"] == pytest.approx(3.75)
    assert sum(profile["weights"]) == pytest.approx(3.75)
    stacks = {
        ";".join(f"{frames[i]['name']}({frames[i]['file']})" for i in sample): weight
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True)
    }
    assert stacks["main(app);serve(app.http);parse(app.http)"] == 1.5


def prometheus_answer(results):
    return json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": {"stack": stack}, "value": [1764000000.0, str(value)]}
                    for stack, value in results.items()
                ],
            },
        }
    )


def test_a_prometheus_range_is_read_as_increases(http_server, tmp_path, capsys):
    answer = prometheus_answer({"main(app);serve(app.http)": 3.5, "main(app);idle(app)": 0})
    http_server.route("/api/v1/query", answer, content_type="application/json")
    out = tmp_path / "f.txt"
    base = http_server.url("/")
    code, _, err = run_cli(["--prometheus", base, "--range", "15m", "--folded", str(out)], capsys)
    assert code == 0, err
    assert read_folded(out) == {"main(app);serve(app.http)": 3.5}
    (request,) = http_server.requests
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request).query)["query"][0]
    assert query == "sum by (stack) (increase(fastseg_process_stack_seconds_total[15m]))"


def test_prometheus_and_nodes_merge(http_server, tmp_path, capsys):
    http_server.route(
        "/api/v1/query",
        prometheus_answer({"main(app);janitor(app.janitor)": 1.0}),
        content_type="application/json",
    )
    node = http_server.route("/metrics", NODE_B)
    out = tmp_path / "f.txt"
    code, _, err = run_cli(
        ["--url", node, "--prometheus", http_server.url(""), "--folded", str(out)], capsys
    )
    assert code == 0, err
    assert read_folded(out)["main(app);janitor(app.janitor)"] == 2.0


def test_python_dash_m_runs_it(http_server, tmp_path):
    url = http_server.route("/metrics", NODE_A)
    out = tmp_path / "f.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "profiling.flamegraph", "--url", url, "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "parse(app.http) (1.5 s, 40.00%)" in svg_titles(out)


# Errors: one line on stderr, a non-zero exit, no traceback.


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/metrics"


def assert_one_line_error(code, err, *fragments):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flamegraph: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_bad_url_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(["--url", "node1:8001/metrics", "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(code, err, "'node1:8001/metrics' is not an http:// or https:// URL")
    assert not (tmp_path / "f.svg").exists()


def test_an_unreachable_node_is_one_line(tmp_path, capsys):
    url = closed_port_url()
    code, _, err = run_cli(["--url", url, "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(code, err, url, "cannot connect")


def test_a_missing_page_is_one_line(http_server, tmp_path, capsys):
    url = http_server.url("/nope")
    code, _, err = run_cli(["--url", url, "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(code, err, url, "HTTP 404")


def test_metrics_without_sampler_data_is_one_line(http_server, tmp_path, capsys):
    good = http_server.route("/good", NODE_A)
    bare = http_server.route("/metrics", NO_SAMPLER)
    code, _, err = run_cli(["--url", good, "--url", bare, "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(
        code, err, bare, "no fastseg_process_stack_seconds_total samples", "--stack"
    )


def test_a_page_that_is_not_prometheus_text_is_one_line(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", "<html>\n<body>hello</body>\n</html>\n")
    code, _, err = run_cli(["--url", url, "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(code, err, url)


def test_a_filter_that_matches_nothing_is_one_line(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", NODE_A)
    code, _, err = run_cli(["--url", url, "--filter", "nowhere", "-o", str(tmp_path / "f")], capsys)
    assert_one_line_error(code, err, "no sampled stack matches --filter 'nowhere'")


def test_an_unwritable_output_is_one_line(http_server, tmp_path, capsys):
    url = http_server.route("/metrics", NODE_A)
    target = tmp_path / "missing-dir" / "f.svg"
    code, _, err = run_cli(["--url", url, "-o", str(target)], capsys)
    assert_one_line_error(code, err, repr(str(target)), "No such file or directory")


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ('{"status": "error", "errorType": "bad_data", "error": "parse error"}', "bad_data"),
        ("this is not json", "not a Prometheus query API answer"),
        ('{"status": "success", "data": {"result": []}}', "no fastseg_process_stack_seconds_total"),
    ],
    ids=["error-answer", "not-json", "no-data"],
)
def test_prometheus_errors_are_one_line(http_server, tmp_path, capsys, answer, fragment):
    http_server.route("/api/v1/query", answer, content_type="application/json")
    base = http_server.url("")
    code, _, err = run_cli(["--prometheus", base, "-o", str(tmp_path / "f.svg")], capsys)
    assert_one_line_error(code, err, fragment)


def test_a_bad_range_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(
        ["--prometheus", "http://127.0.0.1:9/", "--range", "an hour", "-o", str(tmp_path / "f")],
        capsys,
    )
    assert_one_line_error(code, err, "range 'an hour' is not a Prometheus duration")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "f.svg"], "give at least one --url or --prometheus"),
        (["--url", "http://127.0.0.1:9/metrics"], "give at least one output"),
        (["--url", "http://x/", "--filter", "(", "-o", "f"], "--filter '(' is not a regular"),
        (["--url", "http://x/", "--timeout", "-1", "-o", "f"], "got '-1'"),
        (["--url", "http://x/", "--timeout", "soon", "-o", "f"], "got 'soon'"),
    ],
    ids=["no-source", "no-output", "bad-regex", "negative-timeout", "bad-timeout"],
)
def test_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


# The renderers on their own.


def test_folded_renderer_sorts_and_trims():
    assert folded.render({"b;c": 0.5, "a": 2.0, "b": 1e-7}) == "a 2\nb 0\nb;c 0.5\n"


def test_svg_renderer_refuses_an_empty_profile():
    with pytest.raises(ValueError, match="no samples to draw"):
        svg.render({"a;b": 0.0})


def test_svg_renderer_keeps_deep_and_odd_names_valid(tmp_path):
    stacks = {";".join(f'f{i}("quoted" & <odd>)' for i in range(60)): 1.0, "x(m)": 3.0}
    path = tmp_path / "deep.svg"
    path.write_text(svg.render(stacks))
    titles = svg_titles(path)
    assert 'f59("quoted" & <odd>) (1 s, 25.00%)' in titles


def test_speedscope_renderer_handles_frames_without_a_module():
    doc = json.loads(speedscope.render({"plain;name(mod)": 1.0}))
    assert doc["shared"]["frames"] == [{"name": "plain"}, {"name": "name", "file": "mod"}]


# Against a real Prometheus server (Debian's `prometheus` package).


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def prometheus_binary():
    path = shutil.which("prometheus")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed (apt-get install prometheus)")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    return path


@pytest.mark.slow
def test_a_real_prometheus_range_query(prometheus_binary, http_server, tmp_path, capsys):
    scraped = threading.Event()
    scrapes = []

    def node_metrics(path):
        # A node whose sampler keeps counting: serve's stack grows twice as fast.
        scrapes.append(path)
        if len(scrapes) >= 4:
            scraped.set()
        n = len(scrapes)
        return (
            "# TYPE fastseg_process_stack_seconds_total counter\n"
            f'fastseg_process_stack_seconds_total{{stack="main(app);serve(app.http)"}} {n * 1.0}\n'
            f'fastseg_process_stack_seconds_total{{stack="main(app);idle(app)"}} {n * 0.5}\n'
        )

    target = http_server.route("/metrics", node_metrics)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: node\n"
        f"    static_configs:\n      - targets: ['{urllib.parse.urlsplit(target).netloc}']\n"
    )
    port = free_port()
    prometheus = subprocess.Popen(
        [prometheus_binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'db'}"]
        + [f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert scraped.wait(60), "Prometheus never scraped the node 4 times"
        out = tmp_path / "f.txt"
        base = f"http://127.0.0.1:{port}"
        argv = ["--prometheus", base, "--range", "1m", "--folded", str(out)]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
    finally:
        prometheus.terminate()
        prometheus.communicate(timeout=30)
    stacks = read_folded(out)
    assert set(stacks) == {"main(app);serve(app.http)", "main(app);idle(app)"}
    # increase() extrapolates to the range's edges, the same way for both series.
    assert stacks["main(app);serve(app.http)"] == pytest.approx(
        2 * stacks["main(app);idle(app)"], rel=1e-3
    )
