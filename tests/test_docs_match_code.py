"""The documents name only what exists, and DESIGN.md names every route and metric.

docs/DESIGN.md promises its metric table is every metric the code defines and
its route tables every route the restreamer serves; README.md, DESIGN.md and
OPERATING.md name command-line flags a user will type. Each drifted before
anyone noticed, so this reads the documents and the code and compares them.
"""

import argparse
import contextlib
import importlib
import io
import re
from pathlib import Path

import prometheus_client
import pytest

import profiling
from services.cli import COMMANDS
from services.restreamer.app import create_app
from tests.metric_sets import every_metric_set

ROOT = Path(__file__).resolve().parents[1]
DESIGN = (ROOT / "docs" / "DESIGN.md").read_text()
DOCUMENTS = ("README.md", "docs/DESIGN.md", "docs/OPERATING.md", "DEVELOP.md")
DOCS = {name: (ROOT / name).read_text() for name in DOCUMENTS}


def code_metrics() -> set[str]:
    """Every metric family the code can register: each MetricSet, the profiling ones, fastseg's."""
    registry = prometheus_client.CollectorRegistry()
    for metric_set in every_metric_set():
        metric_set.of(registry)
    profiling.install_log_counter(registry=registry)
    profiling.StackSampler(0.01, registry=registry)
    # fastseg's own timed() metrics live in the global registry, made at import.
    library = [
        f for f in prometheus_client.REGISTRY.collect() if f.name.startswith("fastseg_library_")
    ]
    return {_exposed(family) for family in [*registry.collect(), *library]}


def _exposed(family) -> str:
    """The name Prometheus shows: a counter's family name gains ``_total``."""
    return family.name + "_total" if family.type == "counter" else family.name


def design_metrics() -> set[str]:
    section = DESIGN.split("\n## Metrics\n", 1)[1]
    return set(re.findall(r"^\| `(fastseg_[a-z0-9_]+)` \|", section, re.MULTILINE))


def test_the_metric_table_is_every_metric():
    code, documented = code_metrics(), design_metrics()
    assert len(code) > 30
    missing, unknown = sorted(code - documented), sorted(documented - code)
    assert not missing, f"metrics missing from DESIGN.md's table: {missing}"
    assert not unknown, f"DESIGN.md's table names metrics no code defines: {unknown}"


def design_rows() -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """DESIGN.md's metric table: name -> (type, labels); labels None where it says "as above"."""
    section = DESIGN.split("\n## Metrics\n", 1)[1]
    rows = re.findall(r"^\| `(fastseg_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|", section, re.MULTILINE)
    return {
        name: (kind, None if cell.strip() == "as above" else tuple(re.findall(r"`(\w+)`", cell)))
        for name, kind, cell in rows
    }


def test_the_metric_table_gives_every_declared_metric_its_type_and_labels():
    """Each set's table (services/runtime/metrics.py) against DESIGN.md, row by row."""
    documented = design_rows()
    declared = {m.name: m for metric_set in every_metric_set() for m in metric_set.table()}
    assert len(declared) > 30
    wrong = [
        f"{name}: declared {m.kind} {m.labels}, documented {documented.get(name)}"
        for name, m in sorted(declared.items())
        if documented.get(name) != (m.kind, m.labels)
    ]
    assert not wrong, "DESIGN.md's metric table disagrees with the code:\n" + "\n".join(wrong)
    # The rest (profiling's, fastseg's timed()) are declared by their code: their types.
    registry = prometheus_client.CollectorRegistry()
    profiling.install_log_counter(registry=registry)
    profiling.StackSampler(0.01, registry=registry)
    library = [f for f in prometheus_client.REGISTRY.collect() if f.name.startswith("fastseg_l")]
    for family in [*registry.collect(), *library]:
        assert documented[_exposed(family)][0] == family.type, family.name


def _shape(path: str) -> str:
    """A route with its variable parts blanked: ``/playlist/<>/<>.m3u8``."""
    path = re.sub(r"<[^>]*>", "<>", path)  # Flask's <name> and <path:name>
    return re.sub(r"(?<=/)[A-Z][A-Z0-9_]*(?=[./]|$)", "<>", path)  # the documents' CH, Q, HOUR


def code_routes(tmp_path) -> set[str]:
    app = create_app({
        "BASE_DIR": str(tmp_path),
        "METRICS_REGISTRY": prometheus_client.CollectorRegistry(),
        "DATABASE": "host=/nonexistent dbname=unused",  # never connected: routes only
        "CLIPS_DIR": str(tmp_path),
    })  # fmt: skip
    return {
        _shape(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.rule.startswith("/static")
    }


def design_routes() -> set[str]:
    """Routes in DESIGN.md's route tables (headed ``| route |``): their `METHOD /path` cells."""
    found: set[str] = set()
    in_table = False
    for line in DESIGN.splitlines():
        in_table = line.startswith("| route |") or (in_table and line.startswith("|"))
        if not in_table:
            continue
        last = ""
        cell = line.split("|")[1]
        for path in re.findall(r"`(?:[A-Z]+ )?(/[^`?\[ ,]*)|(?<=`)(\.\.\./[^`?\[ ]*)", cell):
            path = path[0] or path[1]
            if path.startswith(".../"):  # `.../reset`: a sibling of the route before it
                path = last.rsplit("/", 1)[0] + path[3:]
            last = path
            found.add(_shape(path.removesuffix("...").rstrip("/") or "/"))
    return found


def _matches(route: str, pattern: str) -> bool:
    """True if ``route`` fits ``pattern``, whose ``<>`` stands for any one component part."""
    regex = "[^/]+".join(re.escape(part) for part in pattern.split("<>"))
    return re.fullmatch(regex, route.replace("<>", "X")) is not None


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path):
    code, documented = code_routes(tmp_path), design_routes()
    assert "/playlist/<>/<>.m3u8" in code
    undocumented = sorted(c for c in code if not any(_matches(d, c) for d in documented))
    assert not undocumented, f"routes missing from DESIGN.md: {undocumented}"
    unserved = sorted(d for d in documented if not any(_matches(d, c) for c in code))
    assert not unserved, f"DESIGN.md names routes nobody serves: {unserved}"


def code_flags(monkeypatch) -> set[str]:
    """Every option string any command's parser defines, recorded while each parses ``--help``."""
    flags: set[str] = set()
    add_argument = argparse._ActionsContainer.add_argument

    def recording(self, *args, **kwargs):
        flags.update(a for a in args if isinstance(a, str) and a.startswith("--"))
        return add_argument(self, *args, **kwargs)

    monkeypatch.setattr(argparse._ActionsContainer, "add_argument", recording)
    for module in [command.module for command in COMMANDS.values()] + ["profiling.flamegraph"]:
        with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit):
            importlib.import_module(module).main(["--help"])
    return flags


# Flags of other programs that the documents mention (pytest and its plugins, node, certbot).
FOREIGN = {"--benchmark-enable", "--durations", "--dist", "--test", "--standalone"}


def test_every_flag_a_document_names_exists(monkeypatch):
    known = code_flags(monkeypatch)
    assert {"--base-dir", "--hard-timeout", "--editor-token-file"} <= known
    for name, text in DOCS.items():
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
        missing = sorted(named - known - FOREIGN)
        assert not missing, f"{name} names flags no command takes: {missing}"
