"""A report of saved runs, assembled from the generic sections, with a hook for a study.

The first run is the one reported on; further runs (same firms) enter the diagnostics and
the LOO comparison. :func:`build` returns the document, :func:`write_report` writes it
(``index.html``, ``report.md``, PNG figures, ``tables/*.csv``).

A study adds or replaces sections through ``extend``: a function of the runs, the generic
sections and the build's options that returns the sections to render, e.g. replacing
``Effects`` with its own policy section or inserting a section of its own.
"""

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from bayescluster.core.errors import ReportError
from bayescluster.reporting import document as doc
from bayescluster.reporting import sections as sec
from bayescluster.reporting.document import Section, Text

Extend = Callable[[list, list[Section], dict], list[Section]]


def build(runs: list, *, domains: tuple[str, str] | None = None, effect: str | None = None,
          max_draws: int = 1000, extend: Extend | None = None) -> doc.Document:
    """The report of ``runs[0]`` (compared with the rest) as a Document.

    Parameters
    ----------
    runs : list of Run
        The run reported on, then any runs to compare it with.
    domains : (str, str), optional
        A pair of domains to contrast.
    effect : str, optional
        The varying effect of the cluster figures and ranks (default: the last varying
        effect).
    max_draws : int
        Posterior draws used for marginal effects.
    extend : callable, optional
        ``extend(runs, sections, options) -> sections``: a study's own sections.

    Returns
    -------
    Document
        Banners, sections and a footer naming the runs, data hash and package versions.
    """
    run = runs[0]
    design = run.design
    if domains is not None and not set(domains) <= set(design.domain_labels):
        raise ReportError(f"--domains {' '.join(domains)}: the run's domains are "
                          f"{', '.join(design.domain_labels)}. Fix: name two of those.")
    sections = [sec.data_section(run), sec.model_section(runs), sec.diagnostics_section(runs)]
    if run.prior_only:
        for title in ("Effects", "Clusters", "Domains"):
            sections.append(Section(title, [Text("Prior-only run: no posterior.")]))
    else:
        sections += [sec.effects_section(run, max_draws), sec.clusters_section(run, effect),
                     sec.domains_section(run, domains)]
    sections += [s for s in (sec.selection_section(runs),) if s]
    sections += [sec.ppc_section(run), sec.comparison_section(runs)]
    if extend is not None:
        sections = extend(runs, sections, {"domains": domains, "effect": effect,
                                           "max_draws": max_draws})
    versions = json.loads(run.tree.attrs.get("package_versions", "{}"))
    footer = (f"bayescluster {version('bayescluster')}; rebuilt from saved runs "
              f"({', '.join(sec.label(r) for r in runs)}); data sha256 "
              f"{run.tree.attrs.get('data_sha256', '')[:12]}; "
              + ", ".join(f"{k} {v}" for k, v in versions.items()))
    title = f"{run.spec.name}: {run.spec.family} on {design.n_firms} firms"
    return doc.Document(title, [sec.banner(r) for r in runs], sections, footer)


def write_report(runs, out_dir: str | Path, **kwargs) -> dict[str, Path]:
    """Build (see :func:`build`) and write the report; returns the files' paths."""
    runs = runs if isinstance(runs, list | tuple) else [runs]
    return doc.write(build(list(runs), **kwargs), out_dir)
