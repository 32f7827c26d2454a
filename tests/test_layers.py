"""Imports point one way (docs/DESIGN.md#layers): read every module's imports and
fail on one that reaches a layer it may not, so the structure cannot rot silently."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORE = {"fastseg", "profiling"}
#: Each shared layer and the layers it may import (besides itself).
LAYERS = {
    "core": set(),
    "runtime": {"core"},
    "archive": {"core"},
    "ranges": {"core", "archive"},
    "db": {"core", "runtime", "archive", "ranges"},
    "cutting": {"core", "runtime", "archive", "ranges"},
}
SHARED = set(LAYERS) - {"core"}
#: What composes services out of services: the node and the `fastseg` dispatcher.
COMPOSERS = {"node", "cli"}
#: What of the cutting engine code outside it may import (services/cutting/__init__.py
#: says why): the package, and its runner of ffmpeg children. The rest is its own.
CUTTING_PUBLIC = {"services.cutting", "services.cutting.ffmpeg"}


def layer_of(module: str) -> str | None:
    """``core``, a shared layer, ``service:NAME``, or None for the bare package."""
    parts = module.split(".")
    if parts[0] in CORE:
        return "core"
    if parts[0] != "services" or len(parts) == 1:
        return None
    return parts[1] if parts[1] in SHARED else f"service:{parts[1]}"


def may_import(source: str, target: str) -> bool:
    if source == target:
        return True
    if source in LAYERS:
        return target in LAYERS[source]
    if target in LAYERS:
        return True  # a service may use every shared layer
    return source.removeprefix("service:") in COMPOSERS  # never one service from another


def modules():
    for top in ("fastseg", "profiling", "services"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts).removesuffix(".__init__")
            yield name, path


def imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            for alias in node.names:  # `from services import cutter`, `... cutting import source`
                target = ROOT.joinpath(*node.module.split("."), alias.name)
                if target.is_dir() or target.with_suffix(".py").is_file():
                    yield f"{node.module}.{alias.name}"


def test_imports_point_one_way():
    wrong = []
    for name, path in modules():
        source = layer_of(name)
        for target_module in imports(path):
            target = layer_of(target_module)
            if source and target and not may_import(source, target):
                wrong.append(f"{name} ({source}) imports {target_module} ({target})")
    assert not wrong, "imports against docs/DESIGN.md#layers:\n" + "\n".join(wrong)


def reaches_into_cutting(source: str, target: str) -> bool:
    """True if ``source``, outside the engine, imports a module of it that is not public."""
    inside = source == "services.cutting" or source.startswith("services.cutting.")
    engine = target.startswith("services.cutting.")
    return not inside and engine and target not in CUTTING_PUBLIC


def test_only_the_public_cutting_api_is_used():
    """Code outside the engine imports ``services.cutting`` or its public modules, so the
    engine can rearrange its own modules without breaking a service."""
    wrong = [
        f"{name} imports {target}"
        for name, path in modules()
        for target in imports(path)
        if reaches_into_cutting(name, target)
    ]
    assert not wrong, "use what services/cutting/__init__.py exports:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("source", "target", "reaches"),
    [
        ("services.restreamer.frames", "services.cutting", False),
        ("services.restreamer.jobs", "services.cutting.ffmpeg", False),
        ("services.restreamer.frames", "services.cutting.edges", True),
        ("services.cutting.fast", "services.cutting.edges", False),  # the engine's own
    ],
)
def test_cutting_rule_reads_as_documented(source, target, reaches):
    assert reaches_into_cutting(source, target) is reaches


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("db", "cutting", False),  # the database layer loads no ffmpeg code
        ("archive", "db", False),
        ("core", "runtime", False),
        ("service:restreamer", "db", True),
        ("service:janitor", "service:restreamer", False),
        ("service:node", "service:restreamer", True),
    ],
)
def test_rules_read_as_documented(source, target, allowed):
    assert may_import(source, target) is allowed


def test_every_shared_module_has_a_layer():
    """A module under services/ outside the layers is a service, so a new shared
    package must be named in LAYERS (and in the design) to be importable by others."""
    tops = {p.name for p in (ROOT / "services").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert "common" not in tops, "services/common was split into layers: put code in one"
    assert SHARED <= tops
