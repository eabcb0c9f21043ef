"""A report of saved runs, assembled from the generic sections, with a hook for a study.

The first run is the one reported on; further runs (same firms) enter the diagnostics and
the LOO comparison. :func:`build` returns the document, :func:`write_report` writes it
(``index.html``, ``report.md``, PNG figures, ``tables/*.csv``).

The report opens with its findings (plain sentences with their uncertainty, and a figure),
then the effects, domains and clusters (a single-level table has neither); the data,
model, diagnostics, predictive checks and LOO follow as an appendix. Where PSIS-LOO fails
for a few firms the report refits the model without each of them
(:func:`bayescluster.analysis.reloo.exact_loo`).

A study adds or replaces sections through ``extend``: a function of the runs, the generic
sections and the build's options (with the report's ``loos`` and ``compared``) that
returns the sections to render, e.g. replacing ``Effects`` and ``Findings`` with its own
or inserting a section of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayescluster.analysis import clusters as cmp
from bayescluster.analysis.effects import average_marginal_effects, default_contrasts
from bayescluster.analysis.reloo import LIMIT
from bayescluster.core.errors import ReportError
from bayescluster.reporting import document as doc
from bayescluster.reporting import sections as sec
from bayescluster.reporting.document import Section, Text
from bayescluster.reporting.findings import findings_section

if TYPE_CHECKING:
    from bayescluster.inference.run import Run

Extend = Callable[[list, list[Section], dict], list[Section]]


def build(runs: list[Run], *, domains: tuple[str, str] | None = None, effect: str | None = None,
          max_draws: int = 1000, extend: Extend | None = None, reloo: int = LIMIT,
          marginal_effects: Callable = average_marginal_effects,
          contrasts: Callable = default_contrasts, influence: dict | None = None,
          progress: Callable[[str], None] = print) -> doc.Document:
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
    reloo : int
        Most firms to refit exactly per run where PSIS-LOO fails (0: none).
    marginal_effects : callable
        ``marginal_effects(run, max_draws=...)``: the average marginal effects table (a
        study may add its own contrasts).
    contrasts : callable
        ``contrasts(design)``: the definitions of ``marginal_effects``' contrasts, for the
        findings' robustness.
    influence : dict, optional
        Refit without each group, domain or row whose influence cannot be reweighted
        (Pareto k above 0.7), with these options of
        :func:`~bayescluster.analysis.robustness.refit_without` (``scheduler``,
        ``workers``, ``security``, ``chains``, ``draws``...); None: say which could not.
    progress : callable
        Called with a line before each long step (the exact LOO refits).

    Returns
    -------
    Document
        Banners, sections and a footer naming the runs, data hash and package versions.

    Raises
    ------
    ReportError
        For ``domains`` the run does not have.
    """
    run = runs[0]
    design = run.design
    if domains is not None and not set(domains) <= set(design.domain_labels):
        raise ReportError(f"--domains {' '.join(domains)}: the run's domains are "
                          f"{', '.join(design.domain_labels)}. Fix: name two of those.")
    if effect is None and design.varying:
        effect = cmp.default_effect(design)
    loos = {} if run.prior_only else sec.loo_results(runs, limit=reloo, progress=progress)
    compared = sec.loo_comparison(runs, loos)
    ames = robust = None
    sections = []
    if run.prior_only:
        w = run.data.words
        titles = ["Effects"] + ([sec.title(w, "domains")] if run.spec.pool_by_domain else []) \
            + ([sec.title(w)] if run.design.varying else [])
        for title in titles:
            sections.append(Section(title, [Text("Prior-only run: no posterior.")]))
    else:
        progress(f"average marginal effects over {max_draws} draws ...")
        ames = marginal_effects(run, max_draws=max_draws)
        progress("effects and groups: tables and figures ...")
        sections.append(sec.effects_section(run, ames))
        if "domain_total" in run.posterior:
            sections.append(sec.domains_section(run, domains))
        if run.design.varying:
            sections.append(sec.clusters_section(run, effect))
        progress("robustness: the findings under the prior at half and twice its strength, "
                 "without each group and row, in the other runs (reweighted draws) ...")
        robust = _robustness(runs, ames, contrasts, effect, domains, max_draws, influence,
                             compared, progress)
    sections += [s for s in (sec.selection_section(runs),) if s]
    progress("appendix: data, model, diagnostics, predictive checks, LOO ...")
    sections += [sec.data_section(run), sec.model_section(runs), sec.diagnostics_section(runs),
                 sec.ppc_section(run), sec.comparison_section(runs, loos, compared)]
    sections.append(sec.robustness_section(robust, run.data.words))
    sections.insert(0, findings_section(run, ames=ames, loos=loos, compared=compared,
                                        effect=effect, domains=domains, name=sec.label(run),
                                        robustness=robust))
    if extend is not None:
        sections = extend(runs, sections, {"domains": domains, "effect": effect,
                                           "max_draws": max_draws, "loos": loos,
                                           "compared": compared, "ames": ames,
                                           "robustness": robust})
    sections = doc.relabelled(sections, run.data.words.relabel)
    versions = json.loads(run.tree.attrs.get("package_versions", "{}"))
    footer = (f"bayescluster {version('bayescluster')}; rebuilt from saved runs "
              f"({', '.join(sec.label(r) for r in runs)}); data sha256 "
              f"{run.tree.attrs.get('data_sha256', '')[:12]}; "
              + ", ".join(f"{k} {v}" for k, v in versions.items()))
    title = f"{run.spec.name}: {run.spec.family} on {run.data.words.count(design.n_firms)}"
    return doc.Document(title, [sec.banner(r) for r in runs], sections, footer)


def _robustness(runs: list[Run], ames, contrasts: Callable, effect: str | None,
                domains: tuple[str, str] | None, max_draws: int, influence: dict | None,
                compared, progress: Callable[[str], None]):
    """The findings' quantities under perturbations (None when there are none)."""
    from bayescluster.analysis import robustness

    run = runs[0]
    if ames is None or ames.empty:
        return None
    effects = sorted({e for e, m, lv, _ in ames.index if (m, lv) == ("total", "overall")})
    wanted = {"effects": effects, "domains": domains, "effect": effect,
              "max_draws": max_draws, "contrasts": contrasts(run.design)}
    # the marginal effects on the findings' thinned draws; the domain contrast, cheap, on
    # every draw, as its finding reads it: each clause starts from its sentence's number
    parts = [{**wanted, "domains": None}, {**wanted, "effects": [], "max_draws": None}]
    found = [robustness.quantities(run, **part) for part in parts]
    if not any(values for values, _ in found):
        return None
    others = {}
    for other in runs[1:]:
        if other.prior_only or other.outcome != run.outcome \
                or other.design.n_firms != run.design.n_firms:
            continue  # another outcome or table: not the same finding
        mine = contrasts(other.design)
        kept = {**wanted, "contrasts": mine, "effects": [e for e in effects if e in mine]}
        if kept["domains"] and "domain_total" not in other.posterior:
            kept["domains"] = None
        name = sec.label(other)
        if compared is not None and name in compared.index and "weight" in compared:
            name += f" (stacking weight {float(compared.loc[name, 'weight']):.2f})"
        others[name] = robustness.quantities(other, **kept)[0]

    def table(refitted=None):
        return pd.concat([robustness.perturbations(run, values, pairs, others=others,
                                                   refitted=refitted)
                          for values, pairs in found if values], ignore_index=True)

    perturbed = table()
    order = list(robustness.left_out(run))
    failed = set(perturbed[perturbed["perturbation"].isin(order)
                           & ~perturbed["reliable"]]["perturbation"])
    if influence is None or not failed:
        return perturbed
    refitted = robustness.refit_without(run, sorted(failed, key=order.index), wanted,
                                        progress=progress, **influence)
    return table(refitted)


def write_report(runs: Run | list[Run] | tuple[Run, ...], out_dir: str | Path,
                 **kwargs: Any) -> dict[str, Path]:
    """Build (see :func:`build`) and write the report; returns the files' paths.

    Parameters
    ----------
    runs : Run or list of Run
        The run reported on, or it followed by the runs to compare it with.
    out_dir : str or Path
        The report's directory (created if missing).
    **kwargs
        :func:`build`'s options (``domains``, ``effect``, ``max_draws``, ``extend``,
        ``reloo``, ``marginal_effects``, ``progress``).

    Returns
    -------
    dict of str to Path
        ``markdown`` and ``html``: the paths of ``report.md`` and ``index.html``.
    """
    runs = runs if isinstance(runs, list | tuple) else [runs]
    return doc.write(build(list(runs), **kwargs), out_dir)
