"""The package's layers import one way, with no cycle, and the light layers stay light."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bayescluster"
# bottom to top: a module may import its own layer and the layers before it
LAYERS = ("core", "data", "spec", "model", "inference", "analysis", "reporting", "study", "api",
          "cli")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every bayescluster module ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bayescluster")}
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("bayescluster"):
            for alias in node.names:  # `from pkg import module` names a module
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(
                    ".py").exists() else node.module)
    return found


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


GRAPH = {_module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_sits_in_a_layer():
    loose = [m for m in GRAPH if m != "bayescluster" and _layer(m) is None]
    assert not loose, f"modules outside the layers {LAYERS}: {loose}"


def test_imports_run_down_the_layers():
    upward = [f"{m} -> {target}" for m, targets in GRAPH.items() for target in targets
              if _layer(m) is not None and _layer(target) is not None
              and _layer(target) > _layer(m)]
    top = [t for t in GRAPH["bayescluster"] if _layer(t) not in (0, None)]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)
    assert not top, f"the package's __init__ imports above core: {top}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt == node:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", ["bayescluster.spec", "bayescluster.data",
                                    "bayescluster.cli"])
def test_light_layers_load_no_sampler_stack(module):
    code = (f"import sys, {module}; heavy = [m for m in ('pytensor', 'numba', 'pymc', "
            "'matplotlib', 'arviz_stats') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_importing_the_plots_leaves_matplotlib_backend_alone():
    code = ("import matplotlib; before = matplotlib.get_backend(); "
            "import bayescluster.analysis.plots, bayescluster.reporting.document; "
            "print(before == matplotlib.get_backend(), "
            "'matplotlib.pyplot' in __import__('sys').modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"MPLBACKEND": "svg", "PATH": ""}).stdout.split()
    assert out == ["True", "False"]


@pytest.mark.parametrize("verb", ["validate", "describe"])
def test_table_verbs_run_without_the_sampler_stack(verb):
    code = ("import sys, contextlib, io; from bayescluster.cli import main; "
            "from bayescluster.core.resources import DEFAULT_DATA; "
            "out = io.StringIO(); ctx = contextlib.redirect_stdout(out); ctx.__enter__(); "
            f"rc = main([{verb!r}, str(DEFAULT_DATA)]); ctx.__exit__(None, None, None); "
            "print(rc, [m for m in ('pytensor', 'numba', 'pymc', 'matplotlib') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "0 []"


def test_the_front_door_lists_what_the_api_exports():
    import bayescluster
    import bayescluster.api

    assert set(bayescluster._FRONT) == set(bayescluster.api.__all__)
    for name in bayescluster._FRONT:  # no sub-package shadows a front-door name
        assert getattr(bayescluster, name) is getattr(bayescluster.api, name), name
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        bayescluster.fitt  # noqa: B018


def test_the_wheel_lists_every_sub_package():
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"][
        "setuptools"]["packages"])
    present = {_module(p) for p in PACKAGE.rglob("__init__.py")}
    assert present <= listed, f"add to pyproject's packages: {sorted(present - listed)}"
