"""The study's report: the generic report with the paper's sections.

The Findings open with the paper's questions in plain words (H1, participation by domain,
H2); the Data section gains Table 3 beside the data's statistics and the participants per
domain; ``Effects`` becomes ``Policy effects`` (H1 and H2 answered from the posterior,
Table 4 and Section 6.1 beside the estimates); given quality runs (``claims_hier``,
``citations_hier``) a ``Patent quality`` section follows the others' effects. A run whose
table is not the paper's firms (no ``participant`` covariate) gets the generic report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bayescluster.core.defaults import CI_PROB
from bayescluster.reporting import build as generic
from bayescluster.reporting.document import Document, Section, Table, Text, write
from bayescluster.reporting.findings import Finding, chance, change, effect_findings
from bayescluster.reporting.findings import findings_section as generic_findings
from bayescluster.reporting.sections import (
    coefficient,
    data_section,
    effects_blocks,
    label,
)
from bayescluster.study.firms import describe_beside_table3
from bayescluster.study.policy import (
    INTERACTION,
    applies,
    hypotheses,
    policy_contrasts,
    policy_effects,
    table4_layout,
    verdict,
)

if TYPE_CHECKING:
    from bayescluster.inference.run import Run

SECTIONS = ("Findings", "Policy effects", "Domains", "Clusters", "Data", "Model",
            "Diagnostics", "Posterior predictive checks", "Model comparison", "Robustness")
APPENDIX = ("Data", "Model", "Diagnostics", "Posterior predictive checks", "Model comparison",
            "Robustness")
NOUNS = {"pat": "patents", "claim": "claims", "citation": "citations"}  # the outcomes in words
DEFAULT_DOMAINS = ("bio", "it")


def study_data_section(run: Run) -> Section:
    """The Data section with participants and Table 3 beside the statistics.

    Parameters
    ----------
    run : Run
        The run reported on.

    Returns
    -------
    Section
        The generic Data section with the participants counted and the statistics beside
        Table 3's (``paper_*``).
    """
    stats = describe_beside_table3(run.data)
    paper = [c for c in stats if c.startswith("paper_")]
    facts = ""
    if "participant" in run.data.frame:
        facts = f"{int(run.data.frame['participant'].sum())} cluster participants; "
    section = data_section(run, stats=stats, facts=facts, group_counts=("participant",))
    if stats[paper].notna().any().any():
        note = Text("Descriptive statistics, with the paper's Table 3 beside them (paper_*):")
    else:
        note = Text("Descriptive statistics (no column matches the paper's Table 3):")
        section.blocks[-1] = Table(stats.drop(columns=paper), "describe", 2)
    section.blocks.insert(len(section.blocks) - 1, note)
    return section


def policy_findings(run: Run, ames: pd.DataFrame) -> list[Finding]:
    """H1, participation by domain and H2 in plain words (the Findings' opening).

    Parameters
    ----------
    run : Run
        The run reported on.
    ames : DataFrame
        :func:`~bayescluster.study.policy.policy_effects`' table.

    Returns
    -------
    list of Finding
        Participation's effect overall and by domain (with H1's verdict), then H2's
        finding where the model has the interaction; for a rate outcome
        (``roles.per``), participation's effect without the verdicts.
    """
    noun = NOUNS.get(run.outcome, run.outcome)
    if run.data.roles.per:
        return effect_findings(ames, "participant", noun, words=run.data.words)
    total = ames.xs("total", level="margin")
    found = effect_findings(ames, "participant", noun, words=run.data.words,
                            lead="Joining a cluster project (the paper's H1: "
                                 + (verdict(total.loc[("participant", "overall", "all"),
                                                      "p_gt_0"])
                                    if ("participant", "overall", "all") in total.index
                                    else "") + ")")
    fixed = table4_layout(run)
    if INTERACTION in fixed.index and (INTERACTION, "overall", "all") in total.index:
        row = total.loc[(INTERACTION, "overall", "all")]
        p = float(fixed.loc[INTERACTION, "p_gt_0"])
        found.append(Finding(
            "H2", f"For participants working with a national university in their own region "
            f"(the paper's H2: {verdict(p)}), participation changes expected {noun} by "
            f"{change(row, f'{noun} a firm')}; {chance(p)} that this combination "
            "adds to them.", "marginal_effects", f"{INTERACTION} | overall | all",
            row["median"], row["lower"], row["upper"], p, p_source="fixed_effects"))
    return found


def policy_section(run: Run, ames: pd.DataFrame) -> Section:
    """Fixed effects beside Table 4, marginal effects beside Section 6.1, H1 and H2.

    ``ames`` is :func:`~bayescluster.study.policy.policy_effects`' table.

    Parameters
    ----------
    run : Run
        The run reported on.
    ames : DataFrame
        :func:`~bayescluster.study.policy.policy_effects`' table.

    Returns
    -------
    Section
        "Policy effects": H1 and H2 answered (or, for a rate outcome, why not), then the
        effects' tables and figures.
    """
    fixed = table4_layout(run)
    if run.data.roles.per:
        blocks = [Text(f"The outcome is {run.outcome} per {run.data.roles.per}: effects are "
                       "on quality, so the paper's H1 and H2 (about patent counts) are not "
                       "answered here.")]
    else:
        blocks = [Text(s, strong=True) for s in hypotheses(fixed, ames)]
    caption = f"Fixed effects on the log mean (posterior mean, SD, {CI_PROB:.0%} interval, P(> 0))"
    if run.spec.paper_model:
        caption += f"; the paper's Table 4 {run.spec.paper_model} beside them"
    blocks += effects_blocks(run, ames, fixed, fixed_caption=caption, reference="paper",
                             reference_label="paper (Sec. 6.1)",
                             ames_caption=f"Average marginal effects on E[{run.outcome}], "
                                          "overall and by domain; the paper's Section 6.1 "
                                          "values where they apply")
    return Section("Policy effects", blocks)


POLICY_TERMS = ("participant", "national", "sameregion", INTERACTION)


def quality_section(runs: list[Run]) -> Section | None:
    """Quantity and quality effects side by side, with P(quality effect < 0).

    Parameters
    ----------
    runs : list of Run
        The report's runs: the quality runs are those whose outcome is a rate per patent
        (``roles.per``), the quantity run the first that is not.

    Returns
    -------
    Section or None
        "Patent quality", or None without a fitted quality run.
    """
    quality = [r for r in runs if bool(r.data.roles.per) and not r.prior_only]
    if not quality:
        return None
    quantity = next((r for r in runs if not bool(r.data.roles.per) and not r.prior_only), None)
    rows = []
    for term in POLICY_TERMS:
        row = {"term": term}
        if quantity is not None and (c := coefficient(quantity, term)):
            row[f"{label(quantity)} (patents)"] = _span(c)
        for run in quality:
            if c := coefficient(run, term):
                row[f"{label(run)} (per patent)"] = _span(c)
                row[f"P({run.outcome} effect < 0)"] = 1 - c["p_gt_0"]
        rows.append(row)
    table = pd.DataFrame(rows).set_index("term")
    blocks = [Text("Quality is modelled per patent: total claims (citations) with exposure = "
                   "patents, firms with at least one patent. Effects are log ratios; "
                   f"mean and {CI_PROB:.0%} interval.")]
    if "participant" in table.index:
        parts = [f"P(participation lowers {r.outcome} per patent) = "
                 f"{table.loc['participant', f'P({r.outcome} effect < 0)']:.2f}"
                 for r in quality if f"P({r.outcome} effect < 0)" in table]
        blocks.append(Text("The pressure story (more patents at the expense of quality): "
                           + "; ".join(parts) + ".", strong=True))
    blocks.append(Table(table, "quality", 2, caption="Quantity and quality effects"))
    return Section("Patent quality", blocks)


def _span(c: dict) -> str:
    return f"{c['mean']:+.2f} [{c['lower']:+.2f}, {c['upper']:+.2f}]"


def extend(runs: list[Run], sections: list[Section], options: dict) -> list[Section]:
    """The report hook (:func:`bayescluster.reporting.build.build`'s ``extend``).

    Parameters
    ----------
    runs : list of Run
        The run reported on, then the runs compared with it.
    sections : list of Section
        The generic report's sections.
    options : dict
        The build's options and results: ``ames``, ``loos``, ``compared``, ``effect``,
        ``domains``, ``max_draws``.

    Returns
    -------
    list of Section
        The sections with the study's Data, Policy effects and Findings in place of the
        generic ones, and Patent quality after Domains (or after Self-selection).
    """
    run = runs[0]
    ames = options["ames"]
    out = []
    for section in sections:
        if section.title == "Data":
            section = study_data_section(run)
        elif section.title == "Effects":
            section = Section("Policy effects", section.blocks) if run.prior_only else \
                policy_section(run, ames)
        elif section.title == "Findings" and not run.prior_only:
            section = generic_findings(
                run, ames=ames, loos=options["loos"], compared=options["compared"],
                effect=options["effect"], domains=options["domains"], name=label(run),
                lead=policy_findings(run, ames), noun=NOUNS.get(run.outcome),
                robustness=options["robustness"])
        out.append(section)
        if section.title == "Domains" and not any(s.title == "Self-selection"
                                                  for s in sections):
            out += [s for s in (quality_section(runs),) if s]
        if section.title == "Self-selection":
            out += [s for s in (quality_section(runs),) if s]
    return out


def build(runs: list[Run], *, domains: tuple[str, str] | None = None,
          **kwargs: Any) -> Document:
    """The study's report as a Document (the generic one for a table of other data).

    ``domains`` defaults to bio and IT when the data have both; other options as
    :func:`bayescluster.reporting.build.build`.

    Parameters
    ----------
    runs : list of Run
        The run reported on, then any runs to compare it with.
    domains : (str, str), optional
        A pair of domains to contrast (default: bio and it, when the data have both).
    **kwargs
        Further options of :func:`bayescluster.reporting.build.build` (``effect``,
        ``max_draws``, ``reloo``, ``progress``).

    Returns
    -------
    Document
        The report.
    """
    if not applies(runs[0].design):
        return generic.build(runs, domains=domains, **kwargs)
    if domains is None and set(DEFAULT_DOMAINS) <= set(runs[0].design.domain_labels):
        domains = DEFAULT_DOMAINS
    return generic.build(runs, domains=domains, extend=extend,
                         marginal_effects=policy_effects, contrasts=policy_contrasts, **kwargs)


def write_report(runs: Run | list[Run] | tuple[Run, ...], out_dir: str | Path,
                 **kwargs: Any) -> dict[str, Path]:
    """Build the study's report (:func:`build`) and write it.

    Parameters
    ----------
    runs : Run or list of Run
        The run reported on, or it followed by the runs to compare it with.
    out_dir : str or Path
        The report's directory (created if missing).
    **kwargs
        :func:`build`'s options.

    Returns
    -------
    dict of str to Path
        ``markdown`` and ``html``: the paths of ``report.md`` and ``index.html``.
    """
    runs = runs if isinstance(runs, list | tuple) else [runs]
    return write(build(list(runs), **kwargs), out_dir)
