"""The findings a report opens with: plain sentences, each a number with its uncertainty.

Every sentence is made from a :class:`Finding`, whose numbers are also written to
``tables/findings.csv`` beside the table they come from, so a reader (and the tests) can
trace each one. Probabilities read as chances ("a 97% chance"), effects as changes in the
expected count per row with their 90% interval: no symbols. Rows and groups are named in
the table's own words (:class:`~bayescluster.data.roles.Words`: a study's firms and
clusters, else rows and the grouping columns' names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescluster.analysis import checks, plots
from bayescluster.analysis import clusters as cmp
from bayescluster.core.defaults import CI_PROB
from bayescluster.data.roles import Words
from bayescluster.reporting.document import Figure, Items, Row, Section, Table, Text, figure

if TYPE_CHECKING:
    from bayescluster.analysis.reloo import Loo
    from bayescluster.inference.run import Run

TOP = 3
ROWS = Words()  # plain words: rows, groups, domains


@dataclass(frozen=True)
class Finding:
    """One sentence and the numbers in it (NaN where a sentence has no such number).

    ``source`` names the report table (``tables/<source>.csv``) and ``row`` its row;
    ``p_source`` the table of ``probability`` when that is another one.
    """

    key: str
    text: str
    source: str = ""
    row: str = ""
    value: float = np.nan
    lower: float = np.nan
    upper: float = np.nan
    probability: float = np.nan
    p_source: str = ""


def chance(p: float) -> str:
    """A probability in words, rounded as the tables round it: 'a 97% chance' (0.97).

    Parameters
    ----------
    p : float
        A probability in [0, 1].

    Returns
    -------
    str
        ``a <percent>% chance``; "over a 99% chance" when it rounds to 1.00 and "under a
        1% chance" when it rounds to 0.00.
    """
    percent = round(100 * float(f"{p:.2f}"))
    if percent >= 100:
        return "over a 99% chance"
    if percent <= 0:
        return "under a 1% chance"
    return f"a {percent}% chance"


def change(row: pd.Series, unit: str) -> str:
    """'+1.20 patents a firm (90% interval -0.30 to +2.70)' from a median/lower/upper row.

    Parameters
    ----------
    row : Series
        A row with ``median``, ``lower`` and ``upper`` (the interval at
        :data:`~bayescluster.core.defaults.CI_PROB`).
    unit : str
        What the numbers count, e.g. "patents a firm".

    Returns
    -------
    str
        The signed median with its unit and interval, two decimals.
    """
    return (f"{row['median']:+.2f} {unit} ({CI_PROB:.0%} interval {row['lower']:+.2f} to "
            f"{row['upper']:+.2f})")


def _plural(words: Words, noun: str = "groups") -> str:
    text = getattr(words, noun)
    return text[:1].upper() + text[1:]


def effect_findings(ames: pd.DataFrame, effect: str, outcome: str, *,
                    lead: str | None = None, words: Words = ROWS) -> list[Finding]:
    """The effect of one binary covariate overall and by domain (average marginal effects).

    ``outcome`` is the outcome in words ("patents"); ``lead`` replaces the opening words
    ("Changing participant from 0 to 1"); ``words`` name the rows and domains.

    Parameters
    ----------
    ames : DataFrame
        The average marginal effects
        (:func:`~bayescluster.analysis.effects.average_marginal_effects`).
    effect : str
        The contrast's name, a binary covariate.
    outcome : str
        The outcome in words.
    lead : str, optional
        The sentence's opening words (default: "Changing <effect> from 0 to 1").
    words : Words
        How the table names its rows and domains.

    Returns
    -------
    list of Finding
        The overall effect on the expected count and, with several domains, one sentence
        of it by domain; empty when ``ames`` has no such effect.
    """
    if ames.empty:
        return []
    table = ames.xs("total", level="margin")
    if (effect, "overall", "all") not in table.index:
        return []
    row = table.loc[(effect, "overall", "all")]
    unit = f"{outcome} a {words.row}"
    opening = lead or f"Changing {effect} from 0 to 1"
    sentence = (f"{opening} changes expected {outcome} by {change(row, unit)}, averaged "
                f"over the {words.rows} (the posterior median of that average); "
                f"{chance(row['p_gt_0'])} that it raises them.")
    out = [Finding(f"{effect}: overall", sentence, "marginal_effects",
                   f"{effect} | overall | all", row["median"], row["lower"], row["upper"],
                   row["p_gt_0"])]
    if (table.index.get_level_values("level") == "domain").any():
        domains = table.xs((effect, "domain"), level=("effect", "level"))
        parts = [f"{group} {r['median']:+.2f} ({r['lower']:+.2f} to {r['upper']:+.2f})"
                 for group, r in domains.iterrows()]
        out.append(Finding(f"{effect}: by domain", f"By {words.domain}, the same change in "
                           f"{outcome} a {words.row} ({CI_PROB:.0%} intervals): "
                           f"{'; '.join(parts)}.",
                           "marginal_effects", f"{effect} | domain | *"))
    return out


def contrast_finding(run: Run, ames: pd.DataFrame, effect: str, domains: tuple[str, str],
                     outcome: str) -> Finding:
    """Which of two domains has the larger effect, and how sure that is.

    Parameters
    ----------
    run : Run
        A fitted run that pools clusters within domains.
    ames : DataFrame
        The average marginal effects; where they have ``effect`` for both domains, their
        medians are added to the sentence.
    effect : str
        The varying effect compared (also the AME's contrast name).
    domains : (str, str)
        The two domains, A and B.
    outcome : str
        The outcome in words.

    Returns
    -------
    Finding
        P(A > B) of the domains' total effects (log scale), from table
        ``domains_<A>_vs_<B>``.
    """
    a, b = domains
    w = run.data.words
    row = cmp.contrast(run, a, b, level="domain", effect=effect)
    text = (f"The {effect} effect is larger in the {w.domain} {a} than in {b}: "
            f"{chance(row['p_a_gt_b'])}.")
    table = ames.xs("total", level="margin") if not ames.empty else ames
    if (effect, "domain", a) in table.index and (effect, "domain", b) in table.index:
        text = text[:-1] + (f" ({a} {table.loc[(effect, 'domain', a), 'median']:+.2f}, "
                            f"{b} {table.loc[(effect, 'domain', b), 'median']:+.2f} "
                            f"{outcome} a {w.row}).")
    return Finding(f"{a} vs {b}", text, f"domains_{a}_vs_{b}", effect,
                   probability=row["p_a_gt_b"])


def standout_finding(ranks: pd.DataFrame, effect: str, words: Words = ROWS) -> Finding:
    """The clusters most likely to have the largest effect, by P(among the top 3).

    Parameters
    ----------
    ranks : DataFrame
        :func:`~bayescluster.analysis.clusters.ranks` with ``top`` =
        :data:`~bayescluster.reporting.findings.TOP`.
    effect : str
        The varying effect ranked.
    words : Words
        How the table names its groups.

    Returns
    -------
    Finding
        The :data:`~bayescluster.reporting.findings.TOP` groups with the highest P(top), and the
        first one's probability.
    """
    column = f"p_top{TOP}"
    best = ranks.sort_values(column, ascending=False).head(TOP)
    names = [f"{name} ({chance(p)})" for name, p in best[column].items()]
    return Finding("standout groups", f"{_plural(words)} most likely to be among the {TOP} "
                   "with the "
                   f"largest {effect} effect: {', '.join(names)}.", f"ranks_{effect}",
                   ", ".join(best.index), probability=float(best[column].iloc[0]))


def fit_finding(outcome: str, stats: pd.DataFrame, words: Words = ROWS) -> Finding:
    """Does the model reproduce the data? The share of zeros and the predictive checks.

    Parameters
    ----------
    outcome : str
        The outcome in words.
    stats : DataFrame
        :func:`~bayescluster.analysis.checks.ppc_statistics`, with its ("all", "zeros")
        row.
    words : Words
        How the table names its rows.

    Returns
    -------
    Finding
        The observed and replicated share of zeros and how many p-values fall outside
        0.05 to 0.95.
    """
    zeros = stats.loc[("all", "zeros")]
    p = stats["p_value"]
    outside = int(((p < 0.05) | (p > 0.95)).sum())
    p_zeros = float(p.loc[("all", "zeros")])
    verb = "reproduces" if 0.05 <= p_zeros <= 0.95 else "does not reproduce"
    text = (f"The model {verb} the data's share of {words.rows} with no {outcome}: "
            f"{100 * zeros['observed']:.0f}% observed, {100 * zeros['replicated_mean']:.0f}% "
            f"predicted ({CI_PROB:.0%} interval {100 * zeros['lower']:.0f}% to "
            f"{100 * zeros['upper']:.0f}%); {outside} of {len(p)} predictive checks fall "
            "outside the 5% to 95% range.")
    return Finding("predictive checks", text, "ppc_statistics", "all | zeros",
                   zeros["replicated_mean"], zeros["lower"], zeros["upper"])


def trust_finding(run: Run, name: str, loos: dict[str, Loo], compared: pd.DataFrame | None
                  ) -> Finding:
    """How far to trust the fit: its gates and leave-one-out cross-validation.

    ``name`` is the run's label, ``loos`` the report's LOO results by label.

    Parameters
    ----------
    run : Run
        The run reported on.
    name : str
        Its label (:func:`~bayescluster.reporting.sections.label`).
    loos : dict of str to Loo
        The report's LOO results by label
        (:func:`~bayescluster.reporting.sections.loo_results`).
    compared : DataFrame or None
        The LOO comparison (:func:`~bayescluster.reporting.sections.loo_comparison`);
        with more than one run the best one's stacking weight is added.

    Returns
    -------
    Finding
        The gates' verdict and, where the run has a LOO result, whether it is reliable.
    """
    status = run.tree.attrs.get("status")
    w = run.data.words
    gates = {"passed": "The fit passed every convergence check",
             "failed": "The fit FAILED its convergence checks, so these numbers are not "
                       "to be used"}.get(status, "The fit has no convergence checks "
                                                 f"({status})")
    mine = loos.get(name)
    if mine is None:
        return Finding("trust", gates + ".")
    if mine.reliable:
        how = (f"after {mine.refitted} exact refits" if mine.refitted else
               f"for every {w.row}")
        loo_text = f"leave-one-out cross-validation is reliable ({how})"
    else:
        loo_text = (f"leave-one-out cross-validation is unreliable for "
                    f"{w.count(mine.flagged)} (see the appendix)")
    text = f"{gates}; {loo_text}"
    if compared is not None and len(compared) > 1:
        best = compared.index[0]
        text += (f", and it predicts new {w.rows} best with {best} (stacking weight "
                 f"{compared.loc[best, 'weight']:.2f})")
        return Finding("trust", text + ".", "loo_compare", best,
                       value=compared.loc[best, "weight"])
    return Finding("trust", text + ".")


def section(findings: list[Finding], figure: Figure | None) -> Section:
    """The Findings section: the sentences beside the figure, and their numbers' table.

    Parameters
    ----------
    findings : list of Finding
        The sentences, in order.
    figure : Figure or None
        The rendered figure shown beside them.

    Returns
    -------
    Section
        A bulleted list (beside the figure), a line naming the CSV, and the numbers'
        table ``findings`` (written as CSV, not shown).
    """
    items = Items(tuple(f.text for f in findings))
    table = pd.DataFrame([{k: getattr(f, k) for k in ("key", "source", "row", "value", "lower",
                                                      "upper", "probability", "p_source")}
                          for f in findings]).set_index("key")
    blocks = [Row((items, figure)) if figure is not None else items,
              Text("Each number above, and where it comes from: tables/findings.csv.")]
    return Section("Findings", [*blocks, Table(table, "findings", 6, shown=False)])


MAX_COVARIATES = 6  # covariate sentences a table without a study's own findings opens with


def covariate_findings(run: Run, ames: pd.DataFrame, effect: str | None,
                       noun: str) -> list[Finding]:
    """A table's own findings: its effects on the outcome.

    The varying effect's (overall and by domain) first, then each other contrast's
    overall effect, up to :data:`~bayescluster.reporting.findings.MAX_COVARIATES`.

    Parameters
    ----------
    run : Run
        The run (its categorical levels name the contrasts' baselines).
    ames : DataFrame
        The average marginal effects.
    effect : str or None
        The varying effect, first.
    noun : str
        The outcome in words.

    Returns
    -------
    list of Finding
        :func:`effect_findings` of each contrast; the others without their by-domain line.
    """
    w = run.data.words
    found = effect_findings(ames, effect, noun, words=w) if effect else []
    names = [e for e in dict.fromkeys(ames.index.get_level_values("effect")) if e != effect]
    for name in names[:MAX_COVARIATES]:
        column, _, level = name.partition("[")
        lead = None
        if level and column in run.design.levels:
            lead = (f"Changing {column} from {run.design.levels[column][0]} to "
                    f"{level.rstrip(']')}")
        found += effect_findings(ames, name, noun, lead=lead, words=w)[:1]
    return found


def quantity_of(finding: Finding) -> str | None:
    """The per-draw quantity a finding reads, as the robustness module names it.

    None for a finding about the fit or the groups' ranks.

    Parameters
    ----------
    finding : Finding
        A finding.

    Returns
    -------
    str or None
        ``"effect: <name>"`` for an overall marginal effect, ``"domains: A vs B"`` for a
        domain contrast.
    """
    if finding.source == "marginal_effects" and finding.row.endswith(" | overall | all"):
        return "effect: " + finding.row.removesuffix(" | overall | all")
    if finding.source.startswith("domains_"):
        return "domains: " + finding.source.removeprefix("domains_").replace("_vs_", " vs ")
    return None


def with_robustness(found: list[Finding], robustness: pd.DataFrame | None,
                    words: Words) -> list[Finding]:
    """Each finding with its robustness clause appended, where it reads a quantity.

    Parameters
    ----------
    found : list of Finding
        The findings.
    robustness : DataFrame or None
        :func:`~bayescluster.analysis.robustness.perturbations`' table.
    words : Words
        How the table names its rows and groups.

    Returns
    -------
    list of Finding
        The same findings, the ones with a perturbed quantity ending in its clause.
    """
    from dataclasses import replace

    from bayescluster.analysis.robustness import clause

    if robustness is None:
        return found
    known = set(robustness["quantity"])
    out = []
    for f in found:
        q = quantity_of(f)
        out.append(f if q not in known else replace(f, text=f"{f.text} " + clause(
            robustness, q, group=words.group, groups=words.groups, row=words.row,
            domain=words.domain)))
    return out


def findings_section(run: Run, *, ames: pd.DataFrame | None, loos: dict,
                     compared: pd.DataFrame | None, effect: str | None,
                     domains: tuple[str, str] | None, name: str,
                     lead: list[Finding] | None = None, noun: str | None = None,
                     robustness: pd.DataFrame | None = None) -> Section:
    """The Findings section of ``run`` (its label ``name``).

    Parameters
    ----------
    run : Run
        The run reported on.
    ames : DataFrame or None
        The report's average marginal effects (None for a prior-only run).
    loos : dict of str to Loo
        The report's LOO results by run label.
    compared : DataFrame or None
        The report's LOO comparison (None for fewer than two runs).
    effect : str or None
        The varying effect the findings follow (the clusters' figure and ranks).
    domains : (str, str) or None
        The pair of domains to contrast.
    name : str
        The run's label in the report.
    lead : list of Finding, optional
        A study's own opening findings, in place of the effect's overall and by domain.
    noun : str, optional
        The outcome in words (default: its column name).
    robustness : DataFrame, optional
        :func:`~bayescluster.analysis.robustness.perturbations`' table: each finding that
        reads a perturbed quantity ends with its robustness clause.

    Returns
    -------
    Section
        The Findings: the sentences, a figure of the effect by domain (or by cluster) and
        their numbers' table; for a prior-only run a line saying there are none.
    """
    if run.prior_only or ames is None:
        return Section("Findings", [Text("A prior-only run has no findings: every result "
                                         "in this report is drawn from the prior.")])
    noun = noun or run.outcome
    w = run.data.words
    found = list(lead) if lead is not None else covariate_findings(run, ames, effect, noun)
    pooled = "domain_total" in run.posterior
    if effect and domains and pooled:
        found.append(contrast_finding(run, ames, effect, domains, noun))
    if effect:
        found.append(standout_finding(cmp.ranks(run, "cluster", effect=effect, top=TOP),
                                      effect, w))
    found = with_robustness(found, robustness, w)
    found.append(fit_finding(noun, checks.ppc_statistics(run, by="domain"), w))
    found.append(trust_finding(run, name, loos, compared))
    picture = None
    if effect and pooled:
        by_domain, by_cluster = cmp.group_effects(run, "domain"), cmp.group_effects(run)
        picture = figure("findings_domains", f"The {effect} effect by {w.domain} (median and "
                         f"{CI_PROB:.0%} interval) with each {w.group}'s median beneath it",
                         lambda: plots.domain_clusters_plot(by_domain, by_cluster, effect,
                                                            outcome=noun))
    elif effect:
        effects = cmp.group_effects(run)
        picture = figure("findings_clusters", f"The {effect} effect by {w.group}",
                         lambda: plots.forest(w.relabel(effects), effect))
    return section(found, picture)
