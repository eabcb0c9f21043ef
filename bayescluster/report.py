"""The analyst's report from saved runs, without refitting: Data, Model, Diagnostics,
Policy effects (with the paper's H1 and H2 answered from the posterior), Clusters, Domains,
Posterior predictive checks and Model comparison.

The first run is the one reported on; further runs (same firms) enter the diagnostics and
the LOO comparison. Build with :func:`build`, write with :func:`write_report`.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bayescluster import document as doc
from bayescluster import plots
from bayescluster.describe import describe, overview
from bayescluster.diagnostics import stored_gates
from bayescluster.document import Banner, Code, Section, Table, Text, figure
from bayescluster.model import centred_clusters, domain_centring, domain_information
from bayescluster.summary import (
    describe_draws,
    fixed_effects,
    group_parameters,
    group_totals,
)

SECTIONS = ("Data", "Model", "Diagnostics", "Policy effects", "Clusters", "Domains",
            "Posterior predictive checks", "Model comparison")
INTERACTION = "participant:national:sameregion"
DEFAULT_DOMAINS = ("bio", "it")

FAMILY_MATH = {
    "poisson": "y_i ~ Poisson(μ_i)",
    "negbin": "y_i ~ NB2(μ_i, α),  Var(y_i) = μ_i + α μ_i²",
    "zinb": "y_i ~ π_i δ₀ + (1 − π_i) NB2(μ_i, α)      π_i = P(structural zero)",
    "hurdle_nb": "P(y_i = 0) = π_i,  y_i | y_i > 0 ~ zero-truncated NB2(μ_i, α)",
}


def _label(run) -> str:
    folder = None if run.path is None else Path(run.path).name
    return run.spec.name if folder in (None, run.spec.name) else f"{run.spec.name} ({folder})"


def _kind(run) -> tuple:
    """Runs of the same kind score the same outcome on the same firms."""
    return (run.outcome, run.data.roles.per, bool(run.spec.selection))


def _quality(run) -> bool:
    return bool(run.data.roles.per)


def _status(run) -> str:
    return run.tree.attrs.get("status", "unknown")


def _banner(run) -> Banner:
    status, name = _status(run), _label(run)
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


def _interval(row, digits: int = 2, prefix: str = "") -> str:
    f = f"{{:+.{digits}f}}"
    return (f"{prefix}{f.format(row['median'])} (90% interval {f.format(row['lower'])} to "
            f"{f.format(row['upper'])})")


def _verdict(p: float) -> str:
    if p >= 0.95:
        return "supported"
    if p <= 0.05:
        return "contradicted (the effect is negative)"
    return "not settled by the data"


# --- sections ---------------------------------------------------------------------------

def data_section(run) -> Section:
    info = overview(run.data)
    roles, frame = run.data.roles, run.data.frame
    blocks = [Text(f"{info['firms']} firms in {info['clusters']} clusters and "
                   f"{info['domains']} domains; {info.get('participants', 'n/a')} cluster "
                   f"participants; {info['complete_cases']} firms with every covariate. "
                   f"Missing values: {run.spec.missing} ({run.design.n_dropped} firms "
                   "dropped).")]
    columns = [roles.outcome, *roles.covariates]
    missing = pd.DataFrame({"missing": [int(frame[c].isna().sum()) for c in columns],
                            "share": [float(frame[c].isna().mean()) for c in columns]},
                           index=pd.Index(columns, name="column"))
    blocks.append(Table(missing, "missing", caption="Missing values per column"))
    if roles.domain:
        by = frame.groupby(roles.domain)
        groups = pd.DataFrame({"clusters": by[roles.cluster].nunique(), "firms": by.size()})
        if "participant" in frame:
            groups["participants"] = by["participant"].sum().astype(int)
        blocks.append(Table(groups, "domains", caption="Firms per domain"))
    stats = describe(run.data)
    paper = [c for c in stats if c.startswith("paper_")]
    if stats[paper].notna().any().any():
        blocks.append(Text("Descriptive statistics, with the paper's Table 3 beside them "
                           "(paper_*):"))
    else:
        stats = stats.drop(columns=paper)
        blocks.append(Text("Descriptive statistics (no column matches the paper's Table 3):"))
    blocks.append(Table(stats, "describe", 2))
    return Section("Data", blocks)


def _domain_centring_text(design) -> str:
    """How the domain deviations are centred, for the model section."""
    information = domain_information(design)
    if information is None:
        return f"centred by w = {float(domain_centring(design, 1.0)):.0f}"
    pairs = ", ".join(f"{a:.3g} ({e})" for e, a in zip(design.spec.varying, information,
                                                        strict=True))
    return f"centred by w = r/(1 + r), r = σ_domain[e]² × {pairs}"


def model_math(spec, design) -> str:
    """The model as plain-text formulas (read by people, not parsed)."""
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
        lines.append(f"y_i = {spec.columns['outcome']}_i × {units}_i   (firms with "
                     f"{units}_i > 0)")
    lines += [head, "    fixed terms (k): "
              + (", ".join(spec.term_label(t) for t in spec.fixed) or "none")]
    if spec.hierarchical:
        lines.append(f"    varying by cluster (e): {', '.join(spec.varying)}")
        if len(design.domain_labels) > 1:
            lines.append("δ[·, e] ~ ZeroSumNormal(σ_domain[e])   over domains "
                         f"({', '.join(design.domain_labels)})")
        lines.append("u[c] ~ MvNormal(0, diag(σ_cluster) Ω diag(σ_cluster)),   "
                     "Ω ~ LKJ(η)")
        centred = int(centred_clusters(design).sum())
        where = f"{centred} of {len(design.cluster_labels)} clusters centred"
        if spec.pool_by_domain:
            where += "; domain deviations " + _domain_centring_text(design)
        lines.append(f"    parameterisation: {spec.parameterization} ({where})")
    if spec.selection:
        sel = spec.selection
        lines.append(f"{sel['treatment']}_i = 1[κ₀ + Σ_m κ_m s_im"
                     + (" + v[c_i]" if sel["cluster_effect"] else "") + " + ν_i > 0],   "
                     "ν_i ~ N(0, 1)")
        lines.append("    participation terms (m): "
                     + ", ".join(spec.term_label(t) for t in sel["terms"]))
        lines.append("ε_i = ρ ν_i + √(1 − ρ²) ξ_i,   ξ_i ~ N(0, 1),   (ρ + 1)/2 ~ Beta")
    if spec.family in ("zinb", "hurdle_nb"):
        zero = [spec.term_label(t) for t in spec.zero]
        lines.append("logit π_i = γ₀" + (" + Σ_j γ_j w_ij" if zero else ""))
        if zero:
            lines.append(f"    zero-part terms (j): {', '.join(zero)}")
    lines.append(FAMILY_MATH[spec.family])
    return "\n".join(lines)


def _prior_text(value) -> str:
    if not isinstance(value, dict):
        return str(value)
    params = ", ".join(f"{k}={v}" for k, v in value.items() if k != "dist")
    return f"{value['dist']}({params})"


def _prior_used(key: str, spec, design) -> bool:
    from bayescluster.families import FAMILIES

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
    run = runs[0]
    spec = run.spec
    blocks = [Text(f"Spec {spec.name!r}: family {spec.family}. {spec.description}"),
              Code(model_math(spec, run.design))]
    transforms = {k: " then ".join(v) for k, v in spec.transforms.items()}
    if transforms:
        blocks.append(Text("Covariate transforms: " + "; ".join(f"{k}: {v}" for k, v in
                                                                 transforms.items()) + "."))
    priors = pd.DataFrame({"prior": {k: _prior_text(v) for k, v in spec.priors.items()
                                     if _prior_used(k, spec, run.design)}})
    blocks.append(Table(priors.rename_axis("parameter"), "priors", caption="Priors"))
    settings = json.loads(run.tree.attrs.get("settings", "{}"))
    if settings:
        blocks.append(Text("Sampler settings: " + ", ".join(f"{k}={v}" for k, v in
                                                            settings.items()) + "."))
    blocks += [Text("The spec as stored in the run:"), Code(spec.text, "toml")]
    for other in runs[1:]:
        blocks += [Text(f"Compared model {_label(other)}: family {other.spec.family}. "
                        f"{other.spec.description}"), Code(model_math(other.spec,
                                                                      other.design))]
    return Section("Model", blocks)


def diagnostics_section(runs) -> Section:
    blocks = [Text("Gates: max R-hat <= 1.01, min bulk and tail ESS >= 400, no divergent "
                   "transitions, E-BFMI >= 0.3 in every chain.")]
    for run in runs:
        gates = stored_gates(run.tree)
        blocks.append(Text(f"{_label(run)}: {_status(run).upper()}", strong=True))
        if gates is None:
            blocks.append(Text("No MCMC gates for this run (approximate or prior-only)."))
        else:
            blocks.append(Table(gates, f"gates_{run.spec.name}"))
        timings = json.loads(run.tree.attrs.get("timings", "{}"))
        if timings:
            blocks.append(Text("Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                           timings.items()) + "."))
    return Section("Diagnostics", blocks)


def hypotheses(fixed: pd.DataFrame, ames: pd.DataFrame) -> list[str]:
    """The paper's H1 and H2 answered in one sentence each."""
    overall = ames.xs(("total", "overall", "all"), level=("margin", "level", "group"))
    out = []
    if "participant" in overall.index:
        row = overall.loc["participant"]
        out.append(f"H1 (cluster participants apply for more patents than non-participants) "
                   f"is {_verdict(row['p_gt_0'])}: participation changes expected patents by "
                   f"{_interval(row)} per firm on average, P(> 0) = {row['p_gt_0']:.2f}.")
    else:
        out.append("H1 cannot be answered: the model has no binary participant covariate.")
    if INTERACTION in fixed.index:
        p = float(fixed.loc[INTERACTION, "p_gt_0"])
        text = (f"H2 (participants working with a national university in their own region "
                f"apply for more patents) is {_verdict(p)}: the coefficient of {INTERACTION} "
                f"has P(> 0) = {p:.2f}")
        if INTERACTION in overall.index:
            text += (f", and for such firms participation changes expected patents by "
                     f"{_interval(overall.loc[INTERACTION])}")
        out.append(text + ".")
    else:
        out.append(f"H2 cannot be answered: the model has no {INTERACTION} term.")
    return out


def policy_section(run, max_draws: int) -> Section:
    from bayescluster.effects import average_marginal_effects

    fixed = fixed_effects(run)
    ames = average_marginal_effects(run, max_draws=max_draws)
    blocks = ([Text(s, strong=True) for s in hypotheses(fixed, ames)] if not _quality(run)
              else [Text(f"The outcome is {run.outcome} per {run.data.roles.per}: effects are "
                         "on quality, so the paper's H1 and H2 (about patent counts) are not "
                         "answered here.")])
    caption = "Fixed effects on the log mean (posterior mean, SD, 90% interval, P(> 0))"
    if run.spec.paper_model:
        caption += f"; the paper's Table 4 {run.spec.paper_model} beside them"
    blocks.append(Table(fixed, "fixed_effects", caption=caption))
    blocks.append(Table(group_parameters(run), "group_parameters",
                        caption="Group-level SDs, correlations, dispersion, P(zero) (and, "
                                "for a selection model, rho and the participation equation)"))
    margin = ames.index.get_level_values("margin")
    level = ames.index.get_level_values("level")
    blocks.append(Table(ames[(margin == "total") & (level != "cluster")].droplevel("margin"),
                        "marginal_effects", caption="Average marginal effects on E[pat], "
                        "overall and by domain; the paper's Section 6.1 values where they "
                        "apply"))
    if (margin != "total").any():
        blocks.append(Table(ames[(margin != "total") & (level == "overall")].droplevel(
            ["level", "group"]).drop(columns="paper"), "marginal_effects_margins",
            caption="The two margins: extensive = change in P(pat >= 1), intensive = "
                    "change in E[pat | pat >= 1]"))
    blocks.append(figure("marginal_effects", "Average marginal effects on E[pat], overall "
                         "and by domain (x: the paper's Section 6.1)",
                         lambda: plots.effects_plot(ames)))
    return Section("Policy effects", blocks)


def clusters_section(run, effect: str | None, top: int = 3) -> Section:
    from bayescluster import compare as cmp

    if not run.design.varying:
        return Section("Clusters", [Text("This model has no cluster-varying effects, so "
                                         "there are no cluster estimates to compare.")])
    if effect is None:
        effect = "participant" if "participant" in run.design.varying else \
            run.design.varying[-1]
    effects = cmp.group_effects(run, "cluster")
    shrink = cmp.shrinkage(run)
    ranks = cmp.ranks(run, "cluster", effect, top)
    best = ranks.index[0]
    blocks = [Text(f"Each cluster's {effect} effect is population + domain + cluster "
                   f"deviation (log scale). Most likely largest: {best} "
                   f"(P(top {top}) = {ranks.iloc[0][f'p_top{top}']:.2f})."),
              figure(f"forest_{effect}", f"{effect} effect by cluster, ordered (median and "
                     "90% interval; firms in brackets)", lambda: plots.forest(effects, effect)),
              figure(f"shrinkage_{effect}", "Shrinkage: no-pooling estimate -> partial-"
                     "pooling posterior median, with the domain mean",
                     lambda: plots.shrinkage_plot(shrink, effect)),
              Table(ranks, f"ranks_{effect}", 2, caption=f"Ranks of the {effect} effect "
                    "(1 = largest)"),
              Table(effects, "cluster_effects", caption="Cluster effects (log scale)"),
              Table(shrink, "shrinkage", caption="No pooling vs partial pooling")]
    return Section("Clusters", blocks)


def domains_section(run, domains: tuple[str, str] | None) -> Section:
    from bayescluster import compare as cmp

    if "domain_total" not in run.posterior:
        return Section("Domains", [Text("This model does not pool clusters by domain, so "
                                        "there are no domain effects to compare.")])
    blocks = []
    if domains:
        a, b = domains
        rows = pd.DataFrame([cmp.contrast(run, a, b, "domain", e) for e in run.design.varying],
                            index=pd.Index(run.design.varying, name="effect"))
        for effect, row in rows.iterrows():
            blocks.append(Text(f"{a} − {b}, {effect} effect: {_interval(row)} on the log "
                               f"scale; P({a} > {b}) = {row['p_a_gt_b']:.2f}.", strong=True))
        blocks.append(Table(rows, f"domains_{a}_vs_{b}", caption=f"{a} − {b} by effect"))
    blocks.append(Table(group_totals(run, "domain"), "domain_effects",
                        caption="Domain effects: population + domain deviation"))
    for effect in run.design.varying:
        blocks.append(Table(cmp.domain_contrasts(run, effect), f"domain_pairs_{effect}",
                            caption=f"Every pair of domains, {effect} effect (A − B)"))
    return Section("Domains", blocks)


def ppc_section(run) -> Section:
    from bayescluster import checks

    group = "prior" if run.prior_only else "posterior"
    stats = checks.ppc_statistics(run, "domain", group)
    zeros = stats.loc[("all", "zeros")]
    root = checks.rootogram(run, group=group)
    blocks = [Text(f"Share of firms with no patents: observed {zeros['observed']:.3f}, "
                   f"replicated {zeros['replicated_mean']:.3f} (90% interval "
                   f"{zeros['lower']:.3f} to {zeros['upper']:.3f}), p = "
                   f"{zeros['p_value']:.2f}. p-values near 0 or 1 flag misfit."),
              figure("rootogram", f"Hanging rootogram ({group} predictive)",
                     lambda: plots.rootogram_plot(root)),
              figure("ppc_statistics", "Replicated statistics against the observed (line)",
                     lambda: plots.statistics_grid(
                         {s: checks.ppc_draws(run, s, group) for s in checks.STATISTICS})),
              Table(stats, "ppc_statistics", caption="Predictive checks by domain: p = "
                    "P(T(y_rep) >= T(y))")]
    if group == "posterior":
        blocks.append(figure("loo_pit", "LOO-PIT ECDF (uniform when calibrated)",
                             lambda: plots.loo_pit_plot(checks.loo_pit(run))))
    return Section("Posterior predictive checks", blocks)


def comparison_section(runs) -> Section:
    from bayescluster import checks

    fitted = [r for r in runs if not r.prior_only and _kind(r) == _kind(runs[0])]
    if not fitted:
        return Section("Model comparison", [Text("Prior-only runs have no LOO.")])
    skipped = [_label(r) for r in runs if r not in fitted and not r.prior_only]
    rows = {}
    for run in fitted:
        elpd = checks.loo(run)
        k = np.asarray(elpd.pareto_k.values).ravel()
        rows[_label(run)] = {"elpd_loo": float(elpd.elpd), "se": float(elpd.se),
                             "p_loo": float(elpd.p), "pareto_k_gt_0.7": int((k > 0.7).sum())}
    blocks = [Table(pd.DataFrame.from_dict(rows, orient="index").rename_axis("run"), "loo", 2,
                    caption="PSIS-LOO per run")]
    if skipped:
        blocks.append(Text(f"Not compared with {_label(runs[0])} (a different outcome, or a "
                           f"likelihood that also scores participation): {', '.join(skipped)}."))
    bad = {name: row["pareto_k_gt_0.7"] for name, row in rows.items() if row["pareto_k_gt_0.7"]}
    if bad:
        blocks.append(Text("Pareto k > 0.7 for some firms (" + ", ".join(
            f"{name}: {k}" for name, k in bad.items()) + "): PSIS-LOO is unreliable for them; "
            "`bayescluster loo RUN --by-cluster` refits exactly, leaving out one cluster at "
            "a time."))
    if len(fitted) > 1:
        table = checks.compare_runs({_label(r): r for r in fitted})
        best = table.index[0]
        blocks += [Text(f"Best expected predictive accuracy: {best}."),
                   Table(table.rename_axis("run"), "loo_compare", 2,
                         caption="LOO comparison with stacking weights")]
    else:
        blocks.append(Text("One run given: pass several run directories to compare models."))
    return Section("Model comparison", blocks)


def _coef(run, term: str) -> dict | None:
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
                 and r.outcome == run.outcome and not _quality(r)
                 and _coef(r, treatment) is not None]
        rows = {f"with correction ({_label(run)})": _coef(run, treatment)}
        for other in plain:
            rows[f"without correction ({_label(other)})"] = _coef(other, treatment)
        params = group_parameters(run)
        params = params[params.index.isin(["rho", "firm_sd"])
                        | params.index.str.startswith("participation[")]
        rho = params.loc["rho"]
        corrected = rows[f"with correction ({_label(run)})"]
        text = (f"Selection on unobservables ({_label(run)}): rho = {rho['mean']:+.2f} "
                f"(90% interval {rho['lower']:+.2f} to {rho['upper']:+.2f}), "
                f"P(rho > 0) = {rho['p_gt_0']:.2f}; "
                f"the corrected {treatment} effect is {corrected['mean']:+.2f} "
                f"(90% interval {corrected['lower']:+.2f} to {corrected['upper']:+.2f})")
        if plain:
            uncorrected = rows[f"without correction ({_label(plain[0])})"]
            text += f", against {uncorrected['mean']:+.2f} without it ({_label(plain[0])})"
        blocks.append(Text(text + ".", strong=True))
        blocks.append(Table(pd.DataFrame(rows).T.rename_axis("model"),
                            f"selection_{run.spec.name}", caption=f"{treatment} effect on "
                            "the log mean, with and without the selection correction"))
        blocks.append(Table(params, f"selection_parameters_{run.spec.name}",
                            caption="Correlation rho, firm-effect SD and the participation "
                                    "(probit) equation"))
    return Section("Self-selection", blocks)


POLICY_TERMS = ("participant", "national", "sameregion", INTERACTION)


def quality_section(runs) -> Section | None:
    """Quantity and quality effects side by side, with P(quality effect < 0)."""
    quality = [r for r in runs if _quality(r) and not r.prior_only]
    if not quality:
        return None
    quantity = next((r for r in runs if not _quality(r) and not r.prior_only), None)
    rows = []
    for term in POLICY_TERMS:
        row = {"term": term}
        if quantity is not None and (c := _coef(quantity, term)):
            row[f"{_label(quantity)} (patents)"] = _span(c)
        for run in quality:
            if c := _coef(run, term):
                row[f"{_label(run)} (per patent)"] = _span(c)
                row[f"P({run.outcome} effect < 0)"] = 1 - c["p_gt_0"]
        rows.append(row)
    table = pd.DataFrame(rows).set_index("term")
    blocks = [Text("Quality is modelled per patent: total claims (citations) with exposure = "
                   "patents, firms with at least one patent. Effects are log ratios; "
                   "mean and 90% interval.")]
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


def build(runs: list, domains: tuple[str, str] | None = None,
          effect: str | None = None, max_draws: int = 1000) -> doc.Document:
    """The report of ``runs[0]`` (compared with the rest) as a Document. ``domains``: the
    pair to contrast (default bio vs it when the data have both); ``effect``: the varying
    effect for the cluster figures (default participant when it varies)."""
    from bayescluster import __version__

    run = runs[0]
    design = run.design
    if domains is None:
        domains = DEFAULT_DOMAINS if set(DEFAULT_DOMAINS) <= set(design.domain_labels) \
            else None
    elif not set(domains) <= set(design.domain_labels):
        raise doc.ReportError(f"--domains {' '.join(domains)}: the run's domains are "
                              f"{', '.join(design.domain_labels)}. Fix: name two of those.")
    sections = [data_section(run), model_section(runs), diagnostics_section(runs)]
    if run.prior_only:
        for title in ("Policy effects", "Clusters", "Domains"):
            sections.append(Section(title, [Text("Prior-only run: no posterior.")]))
    else:
        sections += [policy_section(run, max_draws), clusters_section(run, effect),
                     domains_section(run, domains)]
    sections += [s for s in (selection_section(runs), quality_section(runs)) if s]
    sections += [ppc_section(run), comparison_section(runs)]
    versions = json.loads(run.tree.attrs.get("package_versions", "{}"))
    footer = (f"bayescluster {__version__}; rebuilt from saved runs "
              f"({', '.join(_label(r) for r in runs)}); data sha256 "
              f"{run.tree.attrs.get('data_sha256', '')[:12]}; "
              + ", ".join(f"{k} {v}" for k, v in versions.items()))
    title = f"{run.spec.name}: {run.spec.family} on {design.n_firms} firms"
    return doc.Document(title, [_banner(r) for r in runs], sections, footer)


def write_report(runs, out_dir: str | Path, **kwargs) -> dict[str, Path]:
    """Build and write the report (index.html, report.md, PNGs, tables/*.csv)."""
    runs = runs if isinstance(runs, list | tuple) else [runs]
    return doc.write(build(list(runs), **kwargs), out_dir)
