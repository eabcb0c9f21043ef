"""The generic sections of a report of saved runs.

Data, Model, Diagnostics, Effects, Clusters, Domains, Self-selection, Posterior predictive
checks and Model comparison.

Each section is built from the runs alone (no refit); the model section shows what the fit
recorded (its parameterisation, transforms and settings), never a recomputation.
"""

import json
from pathlib import Path

import pandas as pd

from bayescluster.analysis import checks, plots
from bayescluster.analysis import clusters as cmp
from bayescluster.analysis.reloo import LIMIT, exact_loo
from bayescluster.analysis.summary import (
    describe_draws,
    fixed_effects,
    group_parameters,
    group_totals,
)
from bayescluster.data.describe import describe, overview
from bayescluster.inference.diagnostics import stored_gates
from bayescluster.reporting.document import Banner, Code, Row, Section, Table, Text, figure
from bayescluster.spec.families import FAMILIES


def label(run) -> str:
    """How a report names a run: its spec, and its folder when that differs."""
    folder = None if run.path is None else Path(run.path).name
    return run.spec.name if folder in (None, run.spec.name) else f"{run.spec.name} ({folder})"


def kind(run) -> tuple:
    """Runs of the same kind score the same outcome on the same firms."""
    return (run.outcome, run.data.roles.per, bool(run.spec.selection))


def _status(run) -> str:
    return run.tree.attrs.get("status", "unknown")


def banner(run) -> Banner:
    """The pass/fail banner of one run."""
    status, name = _status(run), label(run)
    if status == "passed":
        return Banner(f"{name}: the fit passed every convergence gate.", True)
    if status == "failed":
        failed = stored_gates(run.tree).query("not passed")["gate"].tolist()
        return Banner(f"{name}: the fit FAILED the convergence gates ({', '.join(failed)}). "
                      "Do not use these estimates; refit with more tuning, draws or a "
                      "different parameterisation.", False)
    if status == "approximate":
        return Banner(f"{name}: an approximate fit (variational/Pathfinder); no MCMC "
                      "gates apply. Confirm with NUTS before relying on intervals.", False)
    if status == "prior":
        return Banner(f"{name}: prior-only run; every result below is from the prior.",
                      False)
    return Banner(f"{name}: fit status unknown.", False)


def interval_text(row, digits: int = 2, prefix: str = "") -> str:
    """'+0.12 (90% interval -0.03 to +0.27)' from a row with median, lower, upper."""
    f = f"{{:+.{digits}f}}"
    return (f"{prefix}{f.format(row['median'])} (90% interval {f.format(row['lower'])} to "
            f"{f.format(row['upper'])})")


def data_section(run, *, stats: pd.DataFrame | None = None, facts: str = "",
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


def model_math(spec, design, parameterisation=None, words=None) -> str:
    """The model as plain-text formulas (read by people, not parsed).

    ``parameterisation`` is what the run recorded
    (:attr:`~bayescluster.inference.run.Run.parameterisation`); without it the
    parameterisation line says it was not recorded. ``words`` name the groups (default:
    the design's).
    """
    w = words or design.words
    units = spec.columns.get("exposure") or spec.columns.get("per")
    head = "log μ_i = β₀ + Σ_k β_k x_ik"
    if spec.hierarchical:
        head += "  +  Σ_e (δ[d(c_i), e] + u[c_i, e]) · z_ie"
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
        lines.append("u[c] ~ MvNormal(0, diag(σ_cluster) Ω diag(σ_cluster)),   "
                     "Ω ~ LKJ(η)")
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


def _prior_used(key: str, spec, design) -> bool:
    family = FAMILIES[spec.family]
    if key.startswith("selection") or key == "firm_sd":
        return bool(spec.selection)
    if key.startswith("zero"):
        return family.zero_part
    if key.startswith("impute"):
        return bool(design.impute_continuous)
    if key in ("sd_domain", "sd_cluster", "lkj_eta"):
        return spec.hierarchical and (key != "sd_domain" or spec.pool_by_domain)
    if key == "dispersion":
        return family.dispersion
    return True


def model_section(runs) -> Section:
    """The spec, its math, priors, recorded transforms and sampler settings."""
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


def diagnostics_section(runs) -> Section:
    """Every run's gate table and timings."""
    blocks = [Text("Gates: max R-hat <= 1.01, min bulk and tail ESS >= 400, no divergent "
                   "transitions, E-BFMI >= 0.3 in every chain.")]
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


def effects_blocks(run, ames: pd.DataFrame, fixed: pd.DataFrame, *, fixed_caption: str = "",
                   reference: str | None = None, reference_label: str = "reference",
                   ames_caption: str = "") -> list:
    """The tables and figure of an effects section, from the fixed-effect and AME tables."""
    outcome = run.outcome
    caption = fixed_caption or ("Fixed effects on the log mean (posterior mean, SD, 90% "
                                "interval, P(> 0))")
    margin = ames.index.get_level_values("margin")
    level = ames.index.get_level_values("level")
    groups = Table(group_parameters(run), "group_parameters", fold=True,
                   caption="Group-level SDs, correlations, dispersion, P(zero) (and, for a "
                           "selection model, rho and the participation equation)")
    if ames.empty:
        return [Table(fixed, "fixed_effects", caption=caption), groups,
                Text("The model has no binary or categorical covariate, so there is no "
                     "average marginal effect of switching one; the fixed effects above are "
                     "on the log mean.")]
    by = f", overall and by {run.data.words.domain}" if (level == "domain").any() else ""
    picture = figure("marginal_effects", f"Average marginal effects on E[{outcome}]{by}"
                     + (f" (x: {reference_label})" if reference else ""),
                     lambda: plots.effects_plot(ames, outcome=outcome, reference=reference,
                                                reference_label=reference_label))
    blocks = [Row((Table(fixed, "fixed_effects", caption=caption), picture)), groups,
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


def effects_section(run, ames: pd.DataFrame) -> Section:
    """Fixed effects, group parameters and the average marginal effects ``ames``."""
    return Section("Effects", effects_blocks(run, ames, fixed_effects(run)))


def title(words, noun: str = "groups") -> str:
    """A section's title from the table's words: ``Clusters``, ``BROOD groups``."""
    text = getattr(words, noun)
    return text[:1].upper() + text[1:]


def clusters_section(run, effect: str | None, top: int = 3) -> Section:
    """Each cluster's effect: forest, shrinkage, ranks and the full tables."""
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
                          f"and 90% interval; {w.rows} in brackets)",
                          lambda: plots.forest(effects, effect)),
                   figure(f"shrinkage_{effect}", "Shrinkage: no-pooling estimate -> partial-"
                          "pooling posterior median, with the mean it is pooled toward",
                          lambda: plots.shrinkage_plot(shrink, effect)))),
              Table(ranks, f"ranks_{effect}", 2, caption=f"Ranks of the {effect} effect "
                    "(1 = largest)"),
              Table(effects, "cluster_effects", caption=f"{title(w, 'group')} effects (log "
                    "scale)"),
              Table(shrink, "shrinkage", caption="No pooling vs partial pooling")]
    return Section(title(w), blocks)


def domains_section(run, domains: tuple[str, str] | None) -> Section:
    """Domain effects, a chosen pair's contrast and every pair."""
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


def ppc_section(run) -> Section:
    """Share of zeros, rootogram, replicated statistics and LOO-PIT."""
    group = "prior" if run.prior_only else "posterior"
    stats = checks.ppc_statistics(run, by="domain", group=group)
    zeros = stats.loc[("all", "zeros")]
    root = checks.rootogram(run, group=group)
    blocks = [Text(f"Share of {run.data.words.rows} with a zero outcome: observed "
                   f"{zeros['observed']:.3f}, "
                   f"replicated {zeros['replicated_mean']:.3f} (90% interval "
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


def comparable(runs) -> list:
    """The runs LOO can compare with the first: fitted, same outcome and firms' kind."""
    return [r for r in runs if not r.prior_only and kind(r) == kind(runs[0])]


def loo_results(runs, *, limit: int = LIMIT, progress=print) -> dict:
    """Each comparable run's LOO by label, made exact where PSIS fails.

    Up to ``limit`` refits a run (:func:`bayescluster.analysis.reloo.exact_loo`).
    """
    out = {}
    for run in comparable(runs):
        seed = int(run.settings.get("seed", 0))
        out[label(run)] = exact_loo(run, limit=limit, seed=seed, progress=progress)
    return out


def loo_comparison(runs, loos: dict) -> pd.DataFrame | None:
    """Stacking weights and differences of the runs in ``loos`` (None for fewer than two)."""
    if len(loos) < 2:
        return None
    named = {label(r): r for r in runs}
    return checks.compare_runs({name: named[name] for name in loos},
                               elpds={name: result.elpd for name, result in loos.items()})


def comparison_section(runs, loos: dict, compared: pd.DataFrame | None) -> Section:
    """LOO per run (exact where PSIS failed) and, for several runs, their comparison.

    ``loos`` and ``compared`` come from :func:`loo_results` and :func:`loo_comparison`.
    """
    if not loos:
        return Section("Model comparison", [Text("Prior-only runs have no LOO.")],
                       appendix=True)
    skipped = [label(r) for r in runs if label(r) not in loos and not r.prior_only]
    rows = {name: {"elpd_loo": float(r.elpd.elpd), "se": float(r.elpd.se),
                   "p_loo": float(r.elpd.p), "pareto_k_gt_0.7": r.flagged,
                   "refitted": r.refitted, "reliable": r.reliable}
            for name, r in loos.items()}
    w = runs[0].data.words
    blocks = [Table(pd.DataFrame.from_dict(rows, orient="index").rename_axis("run"), "loo", 2,
                    caption=f"LOO per run: PSIS, with exact refits for the {w.rows} PSIS "
                            "could not estimate (Pareto k > 0.7)")]
    if skipped:
        blocks.append(Text(f"Not compared with {label(runs[0])} (a different outcome, or a "
                           f"likelihood that also scores participation): {', '.join(skipped)}."))
    refitted = {name: r.refitted for name, r in loos.items() if r.refitted}
    if refitted:
        blocks.append(Text(f"PSIS-LOO could not estimate some {w.rows} (Pareto k > 0.7): "
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


def coefficient(run, term: str) -> dict | None:
    """A fixed effect's summary (:func:`describe_draws`), None where the run lacks it."""
    post = run.posterior
    if "beta" not in post or term not in post["coef"].values:
        return None
    return describe_draws(post["beta"].sel(coef=term))


def selection_section(runs) -> Section | None:
    """The participation effect with and without the selection correction, and rho."""
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
                f"(90% interval {rho['lower']:+.2f} to {rho['upper']:+.2f}), "
                f"P(rho > 0) = {rho['p_gt_0']:.2f}; "
                f"the corrected {treatment} effect is {corrected['mean']:+.2f} "
                f"(90% interval {corrected['lower']:+.2f} to {corrected['upper']:+.2f})")
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
    shown = [f"{name}: {params.loc[f'participation[{name}]', 'mean']:+.2f}, 90% interval "
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
