"""The generic sections of a report of saved runs.

Data, Model, Diagnostics, Effects, Clusters, Domains, Self-selection, Posterior predictive
checks and Model comparison.

Each section is built from the runs alone (no refit); the model section shows what the fit
recorded (its parameterisation, transforms and settings), never a recomputation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bayescluster.analysis import checks, plots
from bayescluster.analysis import clusters as cmp
from bayescluster.analysis.clusters import NO_POOLING_PRIOR
from bayescluster.analysis.reloo import LIMIT, exact_loo
from bayescluster.analysis.summary import (
    describe_draws,
    fixed_effects,
    group_parameters,
    group_totals,
    zero_part,
)
from bayescluster.core.defaults import CI_PROB, GATES_TEXT, PARETO_K
from bayescluster.data.describe import describe, overview
from bayescluster.inference.diagnostics import stored_gates
from bayescluster.model.priors import AUTO_SCALE
from bayescluster.reporting.document import Banner, Code, Row, Section, Table, Text, figure
from bayescluster.spec.families import FAMILIES, parameter_priors

if TYPE_CHECKING:
    from collections.abc import Callable

    from bayescluster.analysis.reloo import Loo
    from bayescluster.data.roles import Words
    from bayescluster.inference.run import Run
    from bayescluster.model.design import Design
    from bayescluster.model.parameterization import Parameterisation
    from bayescluster.spec.parse import Spec


def label(run: Run) -> str:
    """How a report names a run: its spec, and its folder when that differs.

    Parameters
    ----------
    run : Run
        A saved or fitted run.

    Returns
    -------
    str
        The spec's name, or ``"<spec> (<folder>)"`` when the run's folder has another name.
    """
    folder = None if run.path is None else Path(run.path).name
    return run.spec.name if folder in (None, run.spec.name) else f"{run.spec.name} ({folder})"


def kind(run: Run) -> tuple[str, str | None, bool]:
    """Runs of the same kind score the same outcome on the same firms.

    Parameters
    ----------
    run : Run
        A run.

    Returns
    -------
    tuple
        The outcome column, the rate's denominator column (None for counts) and whether
        the run is a selection model (which also scores participation).
    """
    return (run.outcome, run.data.roles.per, bool(run.spec.selection))


def _status(run) -> str:
    return run.tree.attrs.get("status", "unknown")


def banner(run: Run) -> Banner:
    """The pass/fail banner of one run.

    Parameters
    ----------
    run : Run
        A run, with its recorded status (passed, failed, approximate or prior).

    Returns
    -------
    Banner
        ``ok`` only for a run that passed its convergence gates; a failed run's banner
        names the gates it failed.
    """
    status, name = _status(run), label(run)
    if status == "passed":
        return Banner(f"{name}: the fit passed every convergence gate.", True)
    if status == "failed":
        failed = stored_gates(run.tree).query("not passed")["gate"].tolist()
        return Banner(f"{name}: the fit FAILED the convergence gates ({', '.join(failed)}). "
                      "Do not use these estimates; refit with more tuning, draws or a "
                      "different parameterisation.", False)
    if status == "approximate":
        return Banner(f"{name}: an approximate fit (ADVI or Pathfinder, saved by an earlier "
                      "version; no longer offered); no MCMC gates apply. Refit with NUTS "
                      "before relying on intervals.", False)
    if status == "prior":
        return Banner(f"{name}: prior-only run; every result below is from the prior.",
                      False)
    return Banner(f"{name}: fit status unknown.", False)


def interval_text(row: pd.Series, digits: int = 2, prefix: str = "") -> str:
    """'+0.12 (90% interval -0.03 to +0.27)' from a row with median, lower, upper.

    Parameters
    ----------
    row : Series
        A row with ``median``, ``lower`` and ``upper``.
    digits : int
        Decimals of each number.
    prefix : str
        Text put before the median.

    Returns
    -------
    str
        The signed median and its :data:`~bayescluster.core.defaults.CI_PROB` interval.
    """
    f = f"{{:+.{digits}f}}"
    return (f"{prefix}{f.format(row['median'])} ({CI_PROB:.0%} interval "
            f"{f.format(row['lower'])} to {f.format(row['upper'])})")


def data_section(run: Run, *, stats: pd.DataFrame | None = None, facts: str = "",
                 group_counts: tuple[str, ...] = ()) -> Section:
    """Firms, clusters, domains, missing values and descriptive statistics.

    Parameters
    ----------
    run : Run
        The run reported on.
    stats : DataFrame, optional
        The descriptive table to show (default :func:`~bayescluster.data.describe.describe`);
        a study passes its own with published values beside.
    facts : str
        A sentence a study adds to the opening one.
    group_counts : tuple of str
        Binary columns to count per domain beside the firms.

    Returns
    -------
    Section
        The appendix's Data section: an opening sentence, missing values per column, rows
        and groups per domain (with a domain column) and the descriptive table.
    """
    info = overview(run.data)
    roles, frame, w = run.data.roles, run.data.frame, run.data.words
    if not roles.cluster:
        groups = "in one group (a single-level table: no grouping column)"
    elif roles.domain:
        groups = (f"in {w.count(info['groups'], 'groups')} and "
                  f"{w.count(info['domains'], 'domains')}")
    else:
        groups = f"in {w.count(info['groups'], 'groups')}"
    blocks = [Text(f"{w.count(info['rows'])} {groups}; {facts}{info['complete_cases']} "
                   f"{w.rows} with every covariate. Missing values: {run.spec.missing} "
                   f"({w.count(run.design.n_dropped)} dropped).")]
    columns = [roles.outcome, *roles.covariates]
    missing = pd.DataFrame({"missing": [int(frame[c].isna().sum()) for c in columns],
                            "share": [float(frame[c].isna().mean()) for c in columns]},
                           index=pd.Index(columns, name="column"))
    blocks.append(Table(missing, "missing", caption="Missing values per column"))
    if roles.domain:
        by = frame.groupby(roles.domain)
        groups = pd.DataFrame({w.groups: by[roles.cluster].nunique(), "n": by.size()})
        for column in group_counts:
            if column in frame:
                groups[f"{column}s"] = by[column].sum().astype(int)
        blocks.append(Table(groups, "domains", caption=f"Rows (n) and {w.groups} per "
                            f"{w.domain}"))
    if stats is None:
        stats = describe(run.data)
        blocks.append(Text("Descriptive statistics:"))
    blocks.append(Table(stats, "describe", 2))
    return Section("Data", blocks, appendix=True)


def _domain_centring_text(spec_effects, parameterisation) -> str:
    information = parameterisation.domain_information
    if information is None:
        return f"centred by w = {1 if parameterisation.mode == 'centered' else 0}"
    pairs = ", ".join(f"{a:.3g} ({e})" for e, a in zip(spec_effects, information,
                                                        strict=True))
    return f"centred by w = r/(1 + r), r = σ_domain[e]² × {pairs}"


def model_math(spec: Spec, design: Design, parameterisation: Parameterisation | None = None,
               words: Words | None = None) -> str:
    """The model as plain-text formulas (read by people, not parsed).

    ``parameterisation`` is what the run recorded
    (:attr:`~bayescluster.inference.run.Run.parameterisation`); without it the
    parameterisation line says it was not recorded. ``words`` name the groups (default:
    the design's).

    Parameters
    ----------
    spec : Spec
        The model's spec.
    design : Design
        Its design (varying effects, domain labels, words).
    parameterisation : Parameterisation, optional
        What the run recorded of the hierarchy's parameterisation.
    words : Words, optional
        How the table names its rows, groups and domains.

    Returns
    -------
    str
        One formula or note a line: the linear predictor and its terms, the hierarchy and
        its parameterisation, the selection and zero parts where the model has them, and
        the family's likelihood.
    """
    w = words or design.words
    units = spec.columns.get("exposure") or spec.columns.get("per")
    head = "log μ_i = β₀ + Σ_k β_k x_ik"
    if spec.hierarchical:
        head += ("  +  Σ_e (δ[d(c_i), e] + u[c_i, e]) · z_ie" if spec.pool_by_domain else
                 "  +  Σ_e u[c_i, e] · z_ie")
    if units:
        head += f"  +  log({units}_i)"
    if spec.selection:
        head += "  +  σ_f ε_i"
    lines = []
    if spec.columns.get("per"):
        lines.append(f"y_i = {spec.columns['outcome']}_i × {units}_i   ({w.rows} with "
                     f"{units}_i > 0)")
    lines += [head, "    fixed terms (k): "
              + (", ".join(spec.term_label(t) for t in spec.fixed) or "none")]
    if spec.hierarchical:
        lines.append(f"    varying by {w.group} c (e): {', '.join(design.varying)}")
        if len(design.domain_labels) > 1:
            shown = ", ".join(design.domain_labels[:12]) + (
                f" and {len(design.domain_labels) - 12} more"
                if len(design.domain_labels) > 12 else "")
            lines.append(f"δ[·, e] ~ ZeroSumNormal(σ_domain[e])   over {w.domains} d "
                         f"({shown})")
        lines.append("u[c] ~ MvNormal(0, diag(σ_cluster) Ω diag(σ_cluster)),   Ω ~ LKJ(η)"
                     if len(design.varying) > 1 else "u[c] ~ Normal(0, σ_cluster)")
        if parameterisation is None or parameterisation.centred is None:
            where = "the fit's choice was not recorded in this run"
        else:
            centred = int(parameterisation.centred.sum())
            where = (f"{centred} of {w.count(len(parameterisation.centred), 'groups')} "
                     "centred")
            if spec.pool_by_domain:
                where += "; domain deviations " + _domain_centring_text(design.varying,
                                                                        parameterisation)
        lines.append(f"    parameterisation: {spec.parameterization} ({where})")
    if spec.selection:
        sel = spec.selection
        lines.append(f"{sel['treatment']}_i = 1[κ₀ + Σ_m κ_m s_im"
                     + (" + v[c_i]" if sel["cluster_effect"] else "") + " + ν_i > 0],   "
                     "ν_i ~ N(0, 1)")
        lines.append("    participation terms (m): "
                     + ", ".join(spec.term_label(t) for t in sel["terms"]))
        lines.append("ε_i = ρ ν_i + √(1 − ρ²) ξ_i,   ξ_i ~ N(0, 1),   (ρ + 1)/2 ~ Beta")
    if FAMILIES[spec.family].zero_part:
        zero = [spec.term_label(t) for t in spec.zero]
        lines.append("logit π_i = γ₀" + (" + Σ_j γ_j w_ij" if zero else ""))
        if zero:
            lines.append(f"    zero-part terms (j): {', '.join(zero)}")
    lines.append(FAMILIES[spec.family].math)
    return "\n".join(lines)


def _prior_text(value) -> str:
    if not isinstance(value, dict):
        return str(value)
    params = ", ".join(f"{k}={v}" for k, v in value.items() if k != "dist")
    return f"{value['dist']}({params})"


PARAMETER_PRIORS = parameter_priors()


def _prior_used(key: str, spec, design) -> bool:
    family = FAMILIES[spec.family]
    if key.startswith("selection") or key == "firm_sd":
        return bool(spec.selection)
    if key.startswith("zero"):
        return family.zero_part
    if key.startswith("impute"):
        return bool(design.impute_continuous)
    if key in ("sd_domain", "sd_cluster", "lkj_eta"):
        return spec.hierarchical and (key != "sd_domain" or spec.pool_by_domain) and (
            key != "lkj_eta" or len(design.varying) > 1)
    if key in PARAMETER_PRIORS:
        return family.parameter is not None and key == family.parameter.name
    return True


def model_section(runs: list[Run]) -> Section:
    """The spec, its math, priors, recorded transforms and sampler settings.

    Parameters
    ----------
    runs : list of Run
        The run reported on, then the runs compared with it (their spec and math only).

    Returns
    -------
    Section
        The appendix's Model section; the priors table lists only the priors the model
        uses.
    """
    run = runs[0]
    spec = run.spec
    blocks = [Text(f"Spec {spec.name!r}: family {spec.family}. {spec.description}"),
              Code(model_math(spec, run.design, run.parameterisation))]
    transforms = {k: " then ".join(v) for k, v in spec.transforms.items()}
    if transforms:
        blocks.append(Text("Covariate transforms: " + "; ".join(f"{k}: {v}" for k, v in
                                                                 transforms.items()) + "."))
    recorded = run.decisions.get("transforms", {})
    if recorded:
        table = pd.DataFrame(recorded).T.rename_axis("covariate")
        blocks.append(Table(table, "transforms", caption="Centres and scales the fit "
                            "recorded: on the model's scale x = (t(x) − center) / scale"))
    centred = {part: columns for part, columns in
               run.decisions.get("centred_columns", {}).items() if columns}
    if centred:
        parts = "; ".join(f"{'count part' if part == 'fixed' else 'zero part'}: " + ", ".join(
            f"{name} at {value:.3g}" for name, value in columns.items())
            for part, columns in centred.items())
        blocks.append(Text(f"Centred inside the model ({parts}): the sampler moves the "
                           "intercept at these means, where its prior applies, and the "
                           "tables report it on the data's scale, as brms does."))
    priors = pd.DataFrame({"prior": {k: _prior_text(v) for k, v in spec.priors.items()
                                     if _prior_used(k, spec, run.design)}})
    blocks.append(Table(priors.rename_axis("parameter"), "priors", caption="Priors"))
    settings = run.settings
    if settings:
        blocks.append(Text("Sampler settings: " + ", ".join(f"{k}={v}" for k, v in
                                                            settings.items()) + "."))
    blocks += [Text("The spec as stored in the run:"), Code(spec.text, "toml")]
    for other in runs[1:]:
        blocks += [Text(f"Compared model {label(other)}: family {other.spec.family}. "
                        f"{other.spec.description}"),
                   Code(model_math(other.spec, other.design, other.parameterisation))]
    return Section("Model", blocks, appendix=True)


def diagnostics_section(runs: list[Run]) -> Section:
    """Every run's gate table and timings.

    Parameters
    ----------
    runs : list of Run
        The runs of the report.

    Returns
    -------
    Section
        The appendix's Diagnostics section: per run its status, its stored gate table
        (``gates_<spec>``; a note where there is none) and timings in seconds.
    """
    blocks = [Text(f"Gates: {GATES_TEXT}.")]
    for run in runs:
        gates = stored_gates(run.tree)
        blocks.append(Text(f"{label(run)}: {_status(run).upper()}", strong=True))
        if gates is None:
            blocks.append(Text("No MCMC gates for this run (approximate or prior-only)."))
        else:
            blocks.append(Table(gates, f"gates_{run.spec.name}"))
        timings = json.loads(run.tree.attrs.get("timings", "{}"))
        if timings:
            blocks.append(Text("Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                           timings.items()) + "."))
    return Section("Diagnostics", blocks, appendix=True)


def effects_blocks(run: Run, ames: pd.DataFrame, fixed: pd.DataFrame, *,
                   fixed_caption: str = "", reference: str | None = None,
                   reference_label: str = "reference", ames_caption: str = "") -> list:
    """The tables and figure of an effects section, from the fixed-effect and AME tables.

    Parameters
    ----------
    run : Run
        The run reported on.
    ames : DataFrame
        Its average marginal effects
        (:func:`~bayescluster.analysis.effects.average_marginal_effects`).
    fixed : DataFrame
        Its fixed effects (:func:`~bayescluster.analysis.summary.fixed_effects`, or a
        study's layout of them).
    fixed_caption : str
        The fixed-effects table's caption (default: one naming the columns).
    reference : str, optional
        A column of ``ames`` with published values, marked in the figure (and left out of
        the margins' table).
    reference_label : str
        The reference values' legend entry.
    ames_caption : str
        The marginal effects table's caption (default: one naming the outcome).

    Returns
    -------
    list
        Blocks: the fixed effects beside the AME figure, the group parameters, the total
        AMEs overall and by domain, and for zero-part families the two margins; without
        AMEs the fixed effects, group parameters and a note.
    """
    outcome = run.outcome
    caption = fixed_caption or (f"Fixed effects on the log mean (posterior mean, SD, {CI_PROB:.0%} "
                                "interval, P(> 0))")
    margin = ames.index.get_level_values("margin")
    level = ames.index.get_level_values("level")
    groups = [Table(group_parameters(run), "group_parameters", fold=True,
                    caption="Group-level SDs, correlations, the family's own parameter, "
                            "P(zero) (and, for a selection model, rho and the participation "
                            "equation)")]
    zero = zero_part(run)
    if len(zero) > 1:  # predictors of its own (an intercept alone is P(zero) above)
        meaning = FAMILIES[run.spec.family].zero_meaning
        groups.append(Table(zero, "zero_part", caption=f"The zero part's coefficients on "
                            f"logit P(zero) ({meaning}; posterior mean, SD, {CI_PROB:.0%} "
                            "interval, P(> 0))"))
    if ames.empty:
        return [Table(fixed, "fixed_effects", caption=caption), *groups,
                Text("The model has no binary or categorical covariate, so there is no "
                     "average marginal effect of switching one; the fixed effects above are "
                     "on the log mean.")]
    by = f", overall and by {run.data.words.domain}" if (level == "domain").any() else ""
    picture = figure("marginal_effects", f"Average marginal effects on E[{outcome}]{by}"
                     + (f" (x: {reference_label})" if reference else ""),
                     lambda: plots.effects_plot(ames, outcome=outcome, reference=reference,
                                                reference_label=reference_label))
    blocks = [Row((Table(fixed, "fixed_effects", caption=caption), picture)), *groups,
              Table(ames[(margin == "total") & (level != "cluster")].droplevel("margin"),
                    "marginal_effects", fold=True, caption=ames_caption or
                    f"Average marginal effects on E[{outcome}]{by}")]
    if (margin != "total").any():
        extra = ames[(margin != "total") & (level == "overall")].droplevel(["level", "group"])
        if reference in extra:
            extra = extra.drop(columns=reference)
        blocks.append(Table(extra, "marginal_effects_margins", fold=True,
                            caption=f"The two margins: extensive = change in P({outcome} "
                                    f">= 1), intensive = change in E[{outcome} | {outcome} "
                                    ">= 1]"))
    return blocks


def effects_section(run: Run, ames: pd.DataFrame) -> Section:
    """Fixed effects, group parameters and the average marginal effects ``ames``.

    Parameters
    ----------
    run : Run
        The run reported on.
    ames : DataFrame
        Its average marginal effects.

    Returns
    -------
    Section
        The Effects section (:func:`effects_blocks`).
    """
    return Section("Effects", effects_blocks(run, ames, fixed_effects(run)))


def title(words: Words, noun: str = "groups") -> str:
    """A section's title from the table's words: ``Clusters``, ``BROOD groups``.

    Parameters
    ----------
    words : Words
        How the table names its rows and groups.
    noun : str
        Which of its words (an attribute: ``groups``, ``domains``, ``group``, ...).

    Returns
    -------
    str
        That word with its first letter capitalised.
    """
    text = getattr(words, noun)
    return text[:1].upper() + text[1:]


def clusters_section(run: Run, effect: str | None, top: int = 3) -> Section:
    """Each cluster's effect: forest, shrinkage, ranks and the full tables.

    Parameters
    ----------
    run : Run
        The run reported on.
    effect : str or None
        The varying effect of the figures and ranks (None:
        :func:`~bayescluster.analysis.clusters.default_effect`).
    top : int
        How many of the largest count as the top in the ranks' P(top).

    Returns
    -------
    Section
        Titled in the table's words (``Clusters``); a note for a model without varying
        effects.
    """
    w = run.data.words
    if not run.design.varying:
        return Section(title(w), [Text(f"This model has no effects varying by {w.group}, so "
                                       f"there are no {w.group} estimates to compare.")])
    if effect is None:
        effect = cmp.default_effect(run.design)
    effects = cmp.group_effects(run, "cluster")
    shrink = cmp.shrinkage(run)
    ranks = cmp.ranks(run, "cluster", effect=effect, top=top)
    best = ranks.index[0]
    upper = f" + {w.domain} deviation" if "domain_total" in run.posterior else ""
    blocks = [Text(f"Each {w.group}'s {effect} effect is the population effect{upper} + its "
                   f"own deviation (log scale). Most likely largest: {best} "
                   f"(P(top {top}) = {ranks.iloc[0][f'p_top{top}']:.2f})."),
              Row((figure(f"forest_{effect}", f"{effect} effect by {w.group}, ordered (median "
                          f"and {CI_PROB:.0%} interval; {w.rows} in brackets)",
                          lambda: plots.forest(w.relabel(effects), effect)),
                   figure(f"shrinkage_{effect}", "Shrinkage: no-pooling estimate -> partial-"
                          "pooling posterior median, with the mean it is pooled toward",
                          lambda: plots.shrinkage_plot(shrink, effect)))),
              Table(ranks, f"ranks_{effect}", 2, caption=f"Ranks of the {effect} effect "
                    "(1 = largest)"),
              Table(effects, "cluster_effects", caption=f"{title(w, 'group')} effects (log "
                    "scale)"),
              Table(shrink, "shrinkage", caption=f"No pooling vs partial pooling. No pooling: "
                    f"each {w.group}'s effects fitted to its own {w.rows} alone, the mode of "
                    "their posterior under weakly informative priors (intercept N(log mean "
                    f"count, {NO_POOLING_PRIOR:g}²), slopes N(0, ({AUTO_SCALE:g}/SD)²)), the "
                    "other parameters at their posterior medians")]
    return Section(title(w), blocks)


def domains_section(run: Run, domains: tuple[str, str] | None) -> Section:
    """Domain effects, a chosen pair's contrast and every pair.

    Parameters
    ----------
    run : Run
        The run reported on.
    domains : (str, str) or None
        A pair of domains to contrast for each varying effect (None: no pair).

    Returns
    -------
    Section
        Titled in the table's words (``Domains``): the densities figure, the pair's
        contrasts, the domain totals and every pair's contrast per effect; a note for a
        model that does not pool groups within domains.
    """
    w = run.data.words
    if "domain_total" not in run.posterior:
        return Section(title(w, "domains"), [Text(
            f"This model does not pool {w.groups} within a higher level, so there are no "
            f"{w.domain} effects to compare.")])
    blocks = []
    post = run.posterior
    draws = {str(e): {str(d): post["domain_total"].sel(domain=d, effect=e).values
                      for d in post["domain"].values} for e in post["effect"].values}
    contrast = None
    if domains:
        a, b = domains
        rows = pd.DataFrame([cmp.contrast(run, a, b, level="domain", effect=e)
                             for e in run.design.varying],
                            index=pd.Index(run.design.varying, name="effect"))
        for effect, row in rows.iterrows():
            blocks.append(Text(f"{a} − {b}, {effect} effect: {interval_text(row)} on the log "
                               f"scale; P({a} > {b}) = {row['p_a_gt_b']:.2f}.", strong=True))
        effect = run.design.varying[-1]
        contrast = (f"{a} − {b}, {effect}", draws[effect][a] - draws[effect][b])
        blocks.append(Table(rows, f"domains_{a}_vs_{b}", caption=f"{a} − {b} by effect"))
    blocks.insert(0, figure("domain_densities", f"Each {w.domain}'s effects (posterior "
                            "densities)"
                            + (f"; right: {contrast[0]}, the share above zero shaded"
                               if contrast else ""),
                            lambda: plots.domain_densities_plot(draws, contrast,
                                                                level=w.domain)))
    blocks.append(Table(group_totals(run, "domain"), "domain_effects", fold=True,
                        caption=f"{title(w, 'domain')} effects: population + {w.domain} "
                                "deviation"))
    for effect in run.design.varying:
        blocks.append(Table(cmp.domain_contrasts(run, effect=effect), f"domain_pairs_{effect}",
                            fold=True, caption=f"Every pair of {w.domains}, {effect} effect "
                                               "(A − B)"))
    return Section(title(w, "domains"), blocks)


def ppc_section(run: Run) -> Section:
    """Share of zeros, rootogram, replicated statistics and LOO-PIT.

    Parameters
    ----------
    run : Run
        The run reported on; a prior-only run is checked against its prior predictive
        (and has no LOO-PIT).

    Returns
    -------
    Section
        The appendix's Posterior predictive checks section.
    """
    group = "prior" if run.prior_only else "posterior"
    stats = checks.ppc_statistics(run, by="domain", group=group)
    zeros = stats.loc[("all", "zeros")]
    root = checks.rootogram(run, group=group)
    blocks = [Text(f"Share of {run.data.words.rows} with a zero outcome: observed "
                   f"{zeros['observed']:.3f}, "
                   f"replicated {zeros['replicated_mean']:.3f} ({CI_PROB:.0%} interval "
                   f"{zeros['lower']:.3f} to {zeros['upper']:.3f}), p = "
                   f"{zeros['p_value']:.2f}. p-values near 0 or 1 flag misfit."),
              figure("rootogram", f"Hanging rootogram ({group} predictive)",
                     lambda: plots.rootogram_plot(root)),
              figure("ppc_statistics", "Replicated statistics against the observed (line)",
                     lambda: plots.statistics_grid(
                         {s: checks.ppc_draws(run, s, group=group)
                          for s in checks.STATISTICS})),
              Table(stats, "ppc_statistics", caption="Predictive checks"
                    + (f" by {run.data.words.domain}" if len(run.design.domain_labels) > 1
                       else "") + ": p = P(T(y_rep) >= T(y))")]
    if group == "posterior":
        blocks.append(figure("loo_pit", "LOO-PIT ECDF (uniform when calibrated)",
                             lambda: plots.loo_pit_plot(checks.loo_pit(run))))
    return Section("Posterior predictive checks", blocks, appendix=True)


def comparable(runs: list[Run]) -> list[Run]:
    """The runs LOO can compare with the first: fitted, same outcome and firms' kind.

    Parameters
    ----------
    runs : list of Run
        The runs of the report, the one reported on first.

    Returns
    -------
    list of Run
        The runs that are not prior-only and of the first's :func:`kind`, in order.
    """
    return [r for r in runs if not r.prior_only and kind(r) == kind(runs[0])]


def loo_results(runs: list[Run], *, limit: int = LIMIT,
                progress: Callable[[str], None] = print) -> dict[str, Loo]:
    """Each comparable run's LOO by label, made exact where PSIS fails.

    Up to ``limit`` refits a run (:func:`bayescluster.analysis.reloo.exact_loo`).

    Parameters
    ----------
    runs : list of Run
        The runs of the report, the one reported on first.
    limit : int
        Most firms to refit exactly per run (0: none).
    progress : callable
        Called with one line before each refit.

    Returns
    -------
    dict of str to Loo
        By :func:`label`, for the :func:`comparable` runs; each run's refits are seeded
        from its own sampling seed.
    """
    out = {}
    for run in comparable(runs):
        seed = int(run.settings.get("seed", 0))
        out[label(run)] = exact_loo(run, limit=limit, seed=seed, progress=progress)
    return out


def loo_comparison(runs: list[Run], loos: dict[str, Loo]) -> pd.DataFrame | None:
    """Stacking weights and differences of the runs in ``loos`` (None for fewer than two).

    Parameters
    ----------
    runs : list of Run
        The runs of the report.
    loos : dict of str to Loo
        :func:`loo_results`: the runs to compare, by label.

    Returns
    -------
    DataFrame or None
        :func:`~bayescluster.analysis.checks.compare_runs` of those runs with their
        (exact where refitted) LOO, best first.
    """
    if len(loos) < 2:
        return None
    named = {label(r): r for r in runs}
    return checks.compare_runs({name: named[name] for name in loos},
                               elpds={name: result.elpd for name, result in loos.items()})


def comparison_section(runs: list[Run], loos: dict[str, Loo],
                       compared: pd.DataFrame | None) -> Section:
    """LOO per run (exact where PSIS failed) and, for several runs, their comparison.

    ``loos`` and ``compared`` come from :func:`loo_results` and :func:`loo_comparison`.

    Parameters
    ----------
    runs : list of Run
        The runs of the report, the one reported on first.
    loos : dict of str to Loo
        Their LOO results by label (empty for prior-only runs).
    compared : DataFrame or None
        Their comparison (None for fewer than two).

    Returns
    -------
    Section
        The appendix's Model comparison section: the LOO table, which runs were left out,
        refitted or unreliable, and the comparison table.
    """
    if not loos:
        return Section("Model comparison", [Text("Prior-only runs have no LOO.")],
                       appendix=True)
    skipped = [label(r) for r in runs if label(r) not in loos and not r.prior_only]
    rows = {name: {"elpd_loo": float(r.elpd.elpd), "se": float(r.elpd.se),
                   "p_loo": float(r.elpd.p), f"pareto_k_gt_{PARETO_K}": r.flagged,
                   "refitted": r.refitted, "reliable": r.reliable}
            for name, r in loos.items()}
    w = runs[0].data.words
    blocks = [Table(pd.DataFrame.from_dict(rows, orient="index").rename_axis("run"), "loo", 2,
                    caption=f"LOO per run: PSIS, with exact refits for the {w.rows} PSIS "
                            f"could not estimate (Pareto k > {PARETO_K})")]
    if skipped:
        blocks.append(Text(f"Not compared with {label(runs[0])} (a different outcome, or a "
                           f"likelihood that also scores participation): {', '.join(skipped)}."))
    refitted = {name: r.refitted for name, r in loos.items() if r.refitted}
    if refitted:
        blocks.append(Text(f"PSIS-LOO could not estimate some {w.rows} (Pareto k > {PARETO_K}): "
                           + ", ".join(f"{name}: {k}" for name, k in refitted.items())
                           + f". Each was refitted exactly without that {w.row} (as brms's "
                           "reloo) and its exact score replaces the PSIS one, "
            "so these estimates are reliable."))
    unreliable = {name: r.flagged for name, r in loos.items() if not r.reliable}
    if unreliable:
        blocks.append(Text("PSIS-LOO is unreliable for " + ", ".join(
            f"{name}: {w.count(k)}" for name, k in unreliable.items()) + f" (more than {LIMIT} "
            "to refit one by one): `bayescluster loo RUN --by-cluster` refits exactly, "
            f"leaving out one {w.group} at a time."))
    if compared is not None:
        best = compared.index[0]
        marked = compared.assign(reliable=[loos[name].reliable for name in compared.index])
        blocks += [Text(f"Best expected predictive accuracy: {best}."),
                   Table(marked.rename_axis("run"), "loo_compare", 2,
                         caption="LOO comparison with stacking weights")]
    else:
        blocks.append(Text("One run given: pass several run directories to compare models."))
    return Section("Model comparison", blocks, appendix=True)


def coefficient(run: Run, term: str) -> dict | None:
    """A fixed effect's summary, None where the run lacks it.

    As :func:`~bayescluster.analysis.summary.describe_draws` gives it.

    Parameters
    ----------
    run : Run
        A fitted run.
    term : str
        The fixed term's label (a ``coef`` of the posterior).

    Returns
    -------
    dict or None
        ``mean``, ``sd``, ``lower``, ``upper``, ``p_gt_0`` of its coefficient (log scale).
    """
    post = run.posterior
    if "beta" not in post or term not in post["coef"].values:
        return None
    return describe_draws(post["beta"].sel(coef=term))


def selection_section(runs: list[Run]) -> Section | None:
    """The participation effect with and without the selection correction, and rho.

    Parameters
    ----------
    runs : list of Run
        The runs of the report; each fitted selection model is compared with the fitted
        count models (not rates) of the same outcome that have its treatment as a fixed
        term.

    Returns
    -------
    Section or None
        The Self-selection section; None when no run is a fitted selection model.
    """
    chosen = [r for r in runs if r.spec.selection and not r.prior_only]
    if not chosen:
        return None
    blocks = []
    for run in chosen:
        treatment = run.spec.selection["treatment"]
        plain = [r for r in runs if not r.spec.selection and not r.prior_only
                 and r.outcome == run.outcome and not r.data.roles.per
                 and coefficient(r, treatment) is not None]
        rows = {f"with correction ({label(run)})": coefficient(run, treatment)}
        for other in plain:
            rows[f"without correction ({label(other)})"] = coefficient(other, treatment)
        params = group_parameters(run)
        params = params[params.index.isin(["rho", "firm_sd"])
                        | params.index.str.startswith("participation[")]
        rho = params.loc["rho"]
        corrected = rows[f"with correction ({label(run)})"]
        text = (f"Selection on unobservables ({label(run)}): rho = {rho['mean']:+.2f} "
                f"({CI_PROB:.0%} interval {rho['lower']:+.2f} to {rho['upper']:+.2f}), "
                f"P(rho > 0) = {rho['p_gt_0']:.2f}; "
                f"the corrected {treatment} effect is {corrected['mean']:+.2f} "
                f"({CI_PROB:.0%} interval {corrected['lower']:+.2f} to {corrected['upper']:+.2f})")
        if plain:
            uncorrected = rows[f"without correction ({label(plain[0])})"]
            text += f", against {uncorrected['mean']:+.2f} without it ({label(plain[0])})"
        blocks.append(Text(text + ".", strong=True))
        blocks.append(Row((Table(pd.DataFrame(rows).T.rename_axis("model"),
                                 f"selection_{run.spec.name}", caption=f"{treatment} effect "
                                 "on the log mean, with and without the selection "
                                 "correction"),
                           Table(params, f"selection_parameters_{run.spec.name}",
                                 caption="Correlation rho, firm-effect SD and the "
                                         "participation (probit) equation"))))
        blocks.append(Text(_identification(run, params)))
    return Section("Self-selection", blocks)


def _identification(run, params: pd.DataFrame) -> str:
    """What identifies rho in this run, and what follows when it is weak."""
    spec = run.spec
    counted = {f for t in (*spec.fixed, *spec.zero) for f in t.factors} | set(spec.varying)
    instruments = [spec.term_label(t) for t in spec.selection["terms"]
                   if not set(t.factors) <= counted]
    shown = [f"{name}: {params.loc[f'participation[{name}]', 'mean']:+.2f}, {CI_PROB:.0%} interval "
             f"{params.loc[f'participation[{name}]', 'lower']:+.2f} to "
             f"{params.loc[f'participation[{name}]', 'upper']:+.2f}"
             for name in instruments if f"participation[{name}]" in params.index]
    source = (f"the instruments, the participation terms the count model leaves out "
              f"({'; '.join(shown)}; probit scale)" if shown else
              "no instrument (every participation term is also in the count model)")
    return (f"How far this can be trusted: rho is identified by {source} and by the "
            "normality of the two errors. Where the instruments move participation little, "
            "rho's posterior stays close to its prior (centred at 0) and the correction is "
            "partial: the corrected effect keeps part of the selection bias even when the "
            "model is true. benchmarks/selection_validation.py measures how much by "
            "simulation.")


def robustness_section(table: pd.DataFrame | None, words: Words) -> Section:
    """The appendix's Robustness: each finding's quantity under each perturbation.

    Parameters
    ----------
    table : DataFrame or None
        :func:`~bayescluster.analysis.robustness.perturbations`' table (None: no finding
        reads a quantity to perturb).
    words : Words
        How the table names its rows, groups and domains.

    Returns
    -------
    Section
        What was perturbed and how, the table (``robustness``) and a dot plot of each
        quantity's mean under every perturbation; or a line saying there is nothing to
        perturb.
    """
    from bayescluster.analysis.robustness import BANDS

    if table is None:
        return Section("Robustness", [Text("No finding reads an effect or a contrast to "
                                           "perturb: a prior-only run, or a model whose "
                                           "covariates are all continuous (the findings "
                                           "read binary and categorical contrasts).")],
                       appendix=True)

    shown = table.set_index(["quantity", "perturbation"])
    grouped = (table["kind"] == words.group).any()
    pooled = (table["kind"] == words.domain).any()
    blocks = [
        Text("Each finding's quantity as fitted and under perturbations, by Pareto-smoothed "
             "importance reweighting of the draws (a refit where marked so): the prior at "
             "half and twice its strength, "
             + (f"each {words.group}{f' and {words.domain}' if pooled else ''} left out, "
                if grouped else "")
             + f"the {words.rows} whose removal moves it most, and the same quantity in the "
             "other runs of the table. A perturbation holds when the probability band "
             f"(below 10%, 10-{BANDS[1]:.0%}, {BANDS[1]:.0%}-{BANDS[2]:.0%}, over "
             f"{BANDS[2]:.0%}) stays, so crossing 50% is a change of sign; a Pareto k above "
             f"{PARETO_K} means the reweighting cannot be trusted there and the row is not "
             "judged"
             + " (report --influence-refits refits without each such "
             + (f"{words.group}, {words.domain} or " if grouped and pooled else
                f"{words.group} or " if grouped else "") + f"{words.row})."),
        figure("robustness", "Each finding's mean as fitted (black) and under each "
               "perturbation (grey: holds; red: changes its sign or band; open: Pareto k too "
               "high to tell)", lambda: plots.robustness_plot(table)),
        Table(shown, "robustness", 3, caption="Findings under perturbations"),
    ]
    return Section("Robustness", blocks, appendix=True)
