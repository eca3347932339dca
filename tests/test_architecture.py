"""The package's shape (docs/architecture.md): imports point down the layers, no module or function grows
past the size a reader can hold, and every SQS number lives in :mod:`labsqs.base.limits`.

These tests read the source (``ast``); they run no engine.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "labsqs"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60

# Lower layers first. A module may import from its own layer and the layers below, never from above.
# The first matching prefix decides (longest first), so a package's modules can sit in its layer.
LAYERS: dict[str, int] = {
    "labsqs.errors": 0,
    "labsqs._localstack_launcher": 0,
    "labsqs.engine": 1,
    "labsqs.client": 2,
    "labsqs.base": 3,
    # the core: the package the design card names
    "labsqs.queues": 4,
    "labsqs.idempotency": 4,
    "labsqs.producer": 4,
    "labsqs.consumer": 4,
    "labsqs.dlq": 4,
    "labsqs.metrics": 4,
    "labsqs.trigger": 4,
    "labsqs.mail": 4,
    "labsqs.security": 4,
    "labsqs.lifecycle": 4,
    # the lab's tools and the seeds' pipelines
    "labsqs.plan": 5,
    "labsqs.conformance": 5,
    "labsqs.load": 5,
    "labsqs.drill": 5,
    "labsqs.pipelines": 5,
    "labsqs.lessons": 5,
    # entry points
    "labsqs.demo": 6,
    "labsqs.cli": 6,
    "labsqs.load.__main__": 6,  # ``python -m labsqs.load``: the command line with its first word given
    "labsqs.plan.__main__": 6,
    "labsqs": 6,  # the package's __init__
}
LAYER_NAMES = {0: "errors", 1: "engine", 2: "client", 3: "base", 4: "core", 5: "tools", 6: "entry points"}


@functools.cache
def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def layer_of(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise KeyError(module)


def _imports(module: str, path: Path) -> set[str]:
    """Every labsqs module ``module`` imports, at any depth (functions too, and type-only imports)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("labsqs"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("labsqs"):
                submodules = {f"{base}.{a.name}" for a in node.names} & set(_modules())
                found.update(submodules or {base})  # ``from labsqs import engine`` imports labsqs.engine
    return found


def test_every_module_has_a_layer():
    unplaced = []
    for module in _modules():
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert not unplaced, (
        f"modules with no layer: {unplaced}; put each in LAYERS here and in docs/architecture.md"
    )


def test_imports_point_down():
    upward = set()
    for module, path in _modules().items():
        for imported in _imports(module, path):
            if layer_of(imported) > layer_of(module):
                upward.add((module, imported))
    new = sorted(upward)
    assert not new, "imports that point up a layer (move the code down, or the caller up): " + ", ".join(
        f"{a} ({LAYER_NAMES[layer_of(a)]}) -> {b} ({LAYER_NAMES[layer_of(b)]})" for a, b in new
    )


def test_no_import_cycles_between_modules():
    graph = {m: {i for i in _imports(m, p) if i != m} for m, p in _modules().items()}
    cycles = sorted((a, b) for a, deps in graph.items() for b in deps if a < b and a in graph.get(b, set()))
    assert not cycles, f"modules that import each other (one of them belongs lower): {cycles}"


def test_modules_stay_small():
    long = {m: n for m, p in _modules().items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by topic): {long}"


def _functions(module: str, path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text())
    sizes: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                sizes[f"{module}:{name}"] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return sizes


def test_functions_stay_short():
    long = {
        f: n for m, p in _modules().items() for f, n in _functions(m, p).items() if n > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (give each step a name): {long}"


# SQS's numbers: a constant named like a limit, with one of these values, defined outside the limits module
_LIMIT_VALUES = {10, 20, 43_200, 900, 1_048_576, 1_209_600, 345_600, 120_000, 300, 3_000, 70_000, 1_024}
_LIMIT_NAME = re.compile(r"^(MAX|MIN)_|_(TPS|LIMIT|ENTRIES|BYTES)$")


def _limit_constants(node: ast.stmt) -> list[str]:
    """Names a module-level assignment gives to SQS's numbers (``MAX_X = 10``, ``MIN_X, MAX_X = 0, 900``)."""
    if isinstance(node, ast.Assign):
        pairs = []
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs.extend(zip(target.elts, node.value.elts, strict=False))
            else:
                pairs.append((target, node.value))
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        pairs = [(node.target, node.value)]
    else:
        return []
    return [
        target.id
        for target, value in pairs
        if isinstance(target, ast.Name)
        and _LIMIT_NAME.search(target.id)
        and isinstance(value, ast.Constant)
        and value.value in _LIMIT_VALUES
    ]


def test_sqs_limits_are_defined_once():
    copies = set()
    for module, path in _modules().items():
        if module == "labsqs.base.limits" or module.startswith("labsqs.conformance"):
            continue  # the conformance checks keep their own copies on purpose (see their module docstring)
        for node in ast.parse(path.read_text()).body:
            copies.update(f"{module}.{name}" for name in _limit_constants(node))
    assert not copies, f"SQS numbers defined again (import them from labsqs.base.limits): {sorted(copies)}"


@pytest.mark.parametrize("module", ["labsqs.base.limits"])
def test_the_limits_module_names_its_source(module):
    text = _modules()[module].read_text()
    assert "sqs-limits.md" in text and "conformance" in text


def test_docs_architecture_lists_every_module():
    docs = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    missing = sorted(m for m in _modules() if not m.endswith("__main__") and f"`{m}`" not in docs)
    assert not missing, (
        f"docs/architecture.md has no line for {missing}: add one (floor, module, what it holds)"
    )
