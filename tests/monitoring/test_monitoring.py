"""monitoring/: the Prometheus configuration, alert rules and Grafana dashboard, checked.

promtool (Debian's prometheus package, installed by ``scripts/install-system-deps test``)
checks the configuration and the rules and runs the rules' unit tests; the rest checks
that every alert is one docs/OPERATING.md names, and that the rules and the dashboard
ask only for metrics the code defines.
"""

import json
import re
import subprocess
from pathlib import Path

import prometheus_client
import pytest

import profiling
from tests.metric_sets import every_metric_set

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
RULES = MONITORING / "rules" / "fastseg.yml"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "fastseg.json"
ROWS = [
    "Downloader: recording",
    "Coverage per hour (last 24 hours)",
    "Backfiller",
    "Cutter",
    "Restreamer: requests",
    "Node and process",
    "Notices",
    "Chat and spreadsheet",
    "Stack sampler: hot spots",
]
METRIC = re.compile(r"\bfastseg_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def defined_metrics() -> set[str]:
    """Every series name the code can expose: each family's name with its type's suffixes."""
    registry = prometheus_client.CollectorRegistry()
    for metric_set in every_metric_set():
        metric_set.of(registry)
    profiling.install_log_counter(registry=registry)
    sampler = profiling.StackSampler(0.01, registry=registry)
    import fastseg  # noqa: PLC0415, F401 - its selection is timed() in the default registry

    names = set()
    for reg in (registry, prometheus_client.REGISTRY):
        for family in reg.collect():
            for suffix in SUFFIXES.get(family.type, ("",)):
                names.add(family.name + suffix)
    del sampler
    return {name for name in names if name.startswith("fastseg_")}


def alerts() -> list[str]:
    return re.findall(r"^\s+- alert: (\w+)$", RULES.read_text(), re.M)


def test_promtool_accepts_the_configuration_and_its_rules():
    done = promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in done.stdout + done.stderr


def test_the_rules_unit_tests_pass():
    done = promtool("test", "rules", "tests/rules_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_every_alert_has_a_test_where_it_fires_and_one_where_it_does_not():
    text = (MONITORING / "tests" / "rules_test.yml").read_text()
    cases = re.findall(r"- alertname: (\w+)\n\s+eval_time: \S+\n\s+exp_alerts:( \[\])?", text)
    fires = {name for name, quiet in cases if not quiet}
    quiet = {name for name, quiet in cases if quiet}
    assert fires == quiet == set(alerts())
    assert len(alerts()) == len(set(alerts()))


def test_operating_names_every_alert_and_only_those():
    operating = (ROOT / "docs" / "OPERATING.md").read_text()
    section = operating.split("## What to alert on", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(Fastseg[A-Za-z]+)`", section))
    assert named == set(alerts())


def test_the_rules_name_only_metrics_the_code_defines():
    used = set(METRIC.findall(RULES.read_text()))
    assert used, "no metric in the rules?"
    assert used - defined_metrics() == set()


def test_the_dashboard_has_every_row_and_asks_only_for_defined_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    panels = dashboard["panels"]
    assert [p["title"] for p in panels if p["type"] == "row"] == ROWS
    defined = defined_metrics()
    datasource = re.search(r"uid: (\S+)", (MONITORING / "grafana" / "provisioning" / "datasources"
                                          / "fastseg.yml").read_text()).group(1)  # fmt: skip
    rows_with_panels = set()
    row = None
    for panel in panels:
        if panel["type"] == "row":
            row = panel["title"]
            continue
        assert panel["datasource"]["uid"] == datasource, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(METRIC.findall(target["expr"]))
            assert used, f"{panel['title']}: {target['expr']}"
            assert used - defined == set(), panel["title"]
        rows_with_panels.add(row)
    assert rows_with_panels == set(ROWS)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["fastseg_downloader_segments_totl", "fastseg_nothing"])
def test_a_misspelt_metric_is_caught(name):
    assert name not in defined_metrics()
