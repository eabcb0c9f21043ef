"""Write the intersphinx inventories the offline docs build reads (``docs/_inventories``).

The build has no network, so it cannot download each project's ``objects.inv``. This script
writes one per project from the installed package instead: every public module-level class
and function (and a class's public methods) with the address each project's documentation
gives it. Run it after upgrading one of them (``make docs`` does not need it: the
inventories are committed).
"""

import importlib
import inspect
import sys
from pathlib import Path

import sphobjinv as soi

HERE = Path(__file__).resolve().parent / "_inventories"

# project -> (base URL, {module: page pattern}); {name} is the object's dotted name
PROJECTS = {
    "pandas": ("https://pandas.pydata.org/docs/",
               {"pandas": "reference/api/{name}.html"}),
    "xarray": ("https://docs.xarray.dev/en/stable/",
               {"xarray": "generated/{name}.html"}),
    "numpy": ("https://numpy.org/doc/stable/",
              {"numpy": "reference/generated/{name}.html"}),
    "pymc": ("https://www.pymc.io/projects/docs/en/stable/",
             {"pymc": "api/generated/{name}.html"}),
    "arviz_stats": ("https://python.arviz.org/projects/stats/en/latest/",
                    {"arviz_stats": "api/generated/{name}.html"}),
    "arviz_base": ("https://python.arviz.org/projects/base/en/latest/",
                   {"arviz_base": "api/generated/{name}.html"}),
    "matplotlib": ("https://matplotlib.org/stable/",
                   {"matplotlib.figure": "api/_as_gen/{name}.html",
                    "matplotlib.axes": "api/_as_gen/{name}.html"}),
    "nutpie": ("https://pymc-devs.github.io/nutpie/", {"nutpie": "api.html#{name}"}),
    "python": ("https://docs.python.org/3/",
               {m: f"library/{m.split('.')[0]}.html#{{name}}"
                for m in ("argparse", "pathlib", "difflib", "importlib", "importlib.resources",
                          "collections.abc", "dataclasses", "typing", "concurrent.futures",
                          "logging", "warnings", "tempfile", "subprocess")}),
}


def _objects(module_name: str):
    module = importlib.import_module(module_name)
    yield module_name, "module"
    for name in getattr(module, "__all__", None) or dir(module):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(module, name)
        except AttributeError:
            continue
        if inspect.isclass(obj):
            yield f"{module_name}.{name}", "exception" if issubclass(obj, BaseException) \
                else "class"
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    yield f"{module_name}.{name}.{attr}", "method"
        elif callable(obj):
            yield f"{module_name}.{name}", "function"


def write(project: str) -> Path:
    """Write ``project``'s inventory; returns its path."""
    base, modules = PROJECTS[project]
    inventory = soi.Inventory()
    inventory.project, inventory.version = project, "installed"
    seen = set()
    for module_name, pattern in modules.items():
        for name, role in _objects(module_name):
            if name in seen:
                continue
            seen.add(name)
            uri = pattern.format(name=name if role != "method" else name.rsplit(".", 1)[0])
            if role == "module":
                uri = pattern.split("#")[0].format(name=name)
            inventory.objects.append(soi.DataObjStr(name=name, domain="py", role=role,
                                                    priority="1", uri=uri, dispname="-"))
    path = HERE / f"{project}.inv"
    HERE.mkdir(exist_ok=True)
    soi.writebytes(path, soi.compress(inventory.data_file(contract=True)))
    return path


if __name__ == "__main__":
    for project in sys.argv[1:] or PROJECTS:
        print(write(project))
