"""Sphinx configuration of bayescluster's documentation (``make docs``).

The build is offline: intersphinx reads the inventories in ``_inventories`` (written by
``inventories.py`` from the installed packages), MathJax is Debian's ``libjs-mathjax``, and
the API, command-line and spec references are generated here from the package itself, so
they cannot drift from it.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import bayescluster  # noqa: E402
from bayescluster.spec.schema import reference  # noqa: E402

project = "bayescluster"
author = "the bayescluster developers"
copyright = "the bayescluster developers"  # noqa: A001
release = version = bayescluster.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinxarg.ext",
    "myst_nb",
]

# --- the references, generated -------------------------------------------------------------
GENERATED = HERE / "reference" / "generated"
# sub-package -> what it is (ARCHITECTURE.md's layers, bottom to top); the front door,
# bayescluster.api, is reference/api's own
LAYERS = {
    "core": "errors, atomic writes, resources, text files",
    "data": "tables, roles, words, the study's registry",
    "spec": "specs, formulas, families, the schema",
    "model": "designs, priors, the PyMC model, the likelihood kernels",
    "inference": "fitting, runs, diagnostics, remedies, Dask",
    "analysis": "effects, clusters, checks, LOO, SBC, sensitivity, robustness, plots",
    "reporting": "the report's document, sections, findings and HTML",
    "study": "the Industrial Cluster Project study",
    "cli": "the command line",
}


def _modules(package: str) -> list[str]:
    import pkgutil

    pkg = __import__(f"bayescluster.{package}", fromlist=["_"])
    names = [f"bayescluster.{package}"]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"bayescluster.{package}."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            names.append(info.name)
    return names


def _write_references() -> None:
    import shutil

    shutil.rmtree(GENERATED, ignore_errors=True)  # a page of a layer since removed goes too
    GENERATED.mkdir(parents=True)
    pages = []
    for package, about in LAYERS.items():
        lines = [f"bayescluster.{package}", "=" * (13 + len(package)), "", about[0].upper()
                 + about[1:] + ".", ""]
        for module in _modules(package):
            lines += [module, "-" * len(module), "", f".. automodule:: {module}",
                      "   :members:", "   :undoc-members:",
                      ""]
        (GENERATED / f"{package}.rst").write_text("\n".join(lines))
        pages.append(f"generated/{package}")
    (GENERATED / "toc.rst").write_text(".. toctree::\n   :maxdepth: 1\n\n"
                                       + "".join(f"   {p}\n" for p in pages))
    front = [".. currentmodule:: bayescluster", ""]
    for name in bayescluster._FRONT:
        kind = "autoclass" if name[0].isupper() else "autofunction"
        front += [f".. {kind}:: {name}", ""]
    (GENERATED / "front.rst").write_text("\n".join(front))
    (GENERATED / "spec_keys.md").write_text(reference())


_write_references()

autodoc_typehints = "none"  # numpydoc's Parameters and Returns carry the types
autodoc_member_order = "bysource"
# a pytensor Op's methods implement pytensor's interface, documented there
autodoc_default_options = {"members": True, "exclude-members": "make_node, perform, "
                           "infer_shape, connection_pattern, pullback, L_op, R_op, grad"}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(.*\.)?_\w+"),  # a private helper named in a docstring
    # module constants are named in docstrings but are not entries of the reference
    (r"py:data", r"(.*\.)?[A-Z][A-Z0-9_]+"),
]

intersphinx_mapping = {
    name: (url, str(HERE / "_inventories" / f"{name}.inv"))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "pandas": "https://pandas.pydata.org/docs/",
        "xarray": "https://docs.xarray.dev/en/stable/",
        "numpy": "https://numpy.org/doc/stable/",
        "pymc": "https://www.pymc.io/projects/docs/en/stable/",
        "arviz_stats": "https://python.arviz.org/projects/stats/en/latest/",
        "arviz_base": "https://python.arviz.org/projects/base/en/latest/",
        "matplotlib": "https://matplotlib.org/stable/",
        "nutpie": "https://pymc-devs.github.io/nutpie/",
    }.items()
}
intersphinx_timeout = 1

# --- notebooks ----------------------------------------------------------------------------
nb_execution_mode = "force"  # every build runs every notebook: one that breaks, breaks it
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# --- the page -----------------------------------------------------------------------------
MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")  # Debian's libjs-mathjax
mathjax_path = f"{MATHJAX.as_uri()}?config=TeX-AMS-MML_HTMLorMML"
html_theme = "pydata_sphinx_theme"
html_title = "bayescluster"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = []
# the demo report's CSV files, which the study page's folded tables link to
html_extra_path = ["_extra"]
templates_path = []
exclude_patterns = ["_build", "_inventories", "_extra", "reference/generated/spec_keys.md",
                    "reference/generated/toc.rst", "reference/generated/front.rst",
                    "**.ipynb_checkpoints", "inventories.py"]
suppress_warnings = ["myst.header"]
