"""Every public function and method documents its parameters and return value (numpydoc) and
annotates its signature: the public API a user reads with ``help()`` and the reference pages
are generated from."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bayescluster"
SECTION = re.compile(r"^\s*(Parameters|Returns|Yields|Raises|Attributes|Other Parameters)\s*\n"
                     r"\s*-{3,}\s*$", re.M)


# a pytensor Op's methods implement pytensor's interface, documented there
OVERRIDES = {"make_node", "perform", "infer_shape", "connection_pattern", "pullback", "L_op",
             "R_op", "grad"}


def _public(path: Path):
    """(qualified name, node) of every public function and public class's public method."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("_"):
                yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_") \
                        and item.name not in OVERRIDES:
                    yield f"{node.name}.{item.name}", item


def _parameters(node) -> list[ast.arg]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if every and every[0].arg in ("self", "cls"):
        every = every[1:]
    return every + [a for a in (args.vararg, args.kwarg) if a is not None]


def _documented(doc: str, name: str) -> bool:
    body = doc.split("Parameters", 1)[1] if "Parameters" in doc else ""
    return re.search(rf"^\s*\**{re.escape(name)}\b[^\n]*(:|,)", body, re.M) is not None or \
        re.search(rf"^\s*\**{re.escape(name)}\s*$", body, re.M) is not None


def problems(path: Path) -> list[str]:
    out = []
    for name, node in _public(path):
        where = f"{path.name}:{node.lineno} {name}"
        decorators = {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")
                      for d in node.decorator_list}
        params = _parameters(node)
        missing = [p.arg for p in params if p.annotation is None]
        if missing:
            out.append(f"{where}: no annotation for {', '.join(missing)}")
        if node.returns is None:
            out.append(f"{where}: no return annotation")
        doc = ast.get_docstring(node) or ""
        if not doc:
            out.append(f"{where}: no docstring")
            continue
        if "property" in decorators or "setter" in decorators:
            continue
        undocumented = [p.arg for p in params if not _documented(doc, p.arg)]
        if undocumented:
            out.append(f"{where}: Parameters does not describe {', '.join(undocumented)}")
        returns = node.returns
        returns_none = returns is None or (isinstance(returns, ast.Constant)
                                           and returns.value is None)
        if not returns_none and not re.search(r"^\s*(Returns|Yields)\s*\n\s*-{3,}", doc, re.M):
            out.append(f"{where}: no Returns section")
        if any(isinstance(n, ast.Raise) and n.exc is not None for n in ast.walk(node)) \
                and not re.search(r"^\s*Raises\s*\n\s*-{3,}", doc, re.M):
            out.append(f"{where}: raises, but has no Raises section")
    return out


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_public_functions_are_documented_and_annotated(path):
    found = problems(path)
    assert not found, "\n".join(found)


def test_every_module_says_what_it_is_for():
    bare = [str(p.relative_to(PACKAGE)) for p in MODULES if not ast.get_docstring(
        ast.parse(p.read_text()))]
    assert not bare, bare


def test_the_checker_finds_what_is_missing(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('def f(a: int, b) -> int:\n    """Sum.\n\n    Parameters\n    ----------\n'
                      '    a : int\n        One.\n    """\n    return a\n\n\n'
                      'def g(a: int) -> None:\n    """Nothing.\n\n    Parameters\n'
                      '    ----------\n    a : int\n        One.\n    """\n\n\n'
                      'def h() -> None:\n    """Fails."""\n    raise ValueError("no")\n')
    found = "\n".join(problems(module))
    assert "h: raises, but has no Raises section" in found
    assert "f: no annotation for b" in found
    assert "f: Parameters does not describe b" in found
    assert "f: no Returns section" in found
    assert " g" not in found
