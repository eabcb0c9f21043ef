"""Figures from the tidy tables of the analyses.

Each takes the table (and an optional ``ax``) and returns the matplotlib figure; nothing
is shown.

Figures are made with :class:`matplotlib.figure.Figure`, not pyplot: no backend is chosen
and no global figure state is kept, so importing this module leaves a notebook's inline
figures alone, and a figure is freed when it is no longer referenced.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from scipy import stats

from bayescluster.core.atomic import atomic_path

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes


class _Shown(Figure):
    """A figure that shows itself where it is the value of a notebook cell, pyplot or not."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _figure(size) -> Figure:
    return _Shown(figsize=size, layout="constrained")


def _axes(ax, size=(7, 5)):
    if ax is None:
        fig = _figure(size)
        return fig, fig.subplots()
    return ax.figure, ax


def forest(effects: pd.DataFrame, effect: str, *, ax: Axes | None = None) -> Figure:
    """Per-group medians and intervals of one effect, ordered, labelled with their rows.

    Parameters
    ----------
    effects : DataFrame
        :func:`~bayescluster.analysis.clusters.group_effects`' table (median, lower, upper
        and, when present, n per group).
    effect : str
        The varying effect shown.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    table = effects.xs(effect, level="effect").sort_values("median")
    fig, ax = _axes(ax, (7, 0.32 * len(table) + 1.5))
    y = np.arange(len(table))
    ax.hlines(y, table["lower"], table["upper"], color="0.4")
    sizes = 15 + 3 * table.get("n", pd.Series(10, index=table.index))
    ax.scatter(table["median"], y, s=sizes, color="C0", zorder=3)
    labels = [f"{g} ({int(n)})" if "n" in table else str(g)
              for g, n in zip(table.index, table.get("n", table["median"]), strict=True)]
    ax.set_yticks(y, labels)
    ax.axvline(0, color="0.7", lw=1, ls="--")
    ax.set_xlabel(f"{effect} effect (log scale), median and interval")
    ax.set_title(f"{effect} by {table.index.name} (rows in brackets)")
    return fig


def heatmap(matrix: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """P(row > column) for every pair.

    Parameters
    ----------
    matrix : DataFrame
        :func:`~bayescluster.analysis.clusters.contrast_matrix`' table of probabilities.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    fig, ax = _axes(ax, (0.45 * len(matrix) + 3, 0.45 * len(matrix) + 2))
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=0, vmax=1)
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=90)
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    fig.colorbar(image, ax=ax, label="P(row > column)")
    return fig


def shrinkage_plot(table: pd.DataFrame, effect: str, *, ax: Axes | None = None) -> Figure:
    """Arrows from the no-pooling estimate to the partial-pooling posterior median.

    The mean the group is pooled toward (its domain's, or the population's) is a tick;
    marker size = rows.

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.clusters.shrinkage`' table.
    effect : str
        The varying effect shown.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    t = table.xs(effect, level="effect").sort_values("partial_pool")
    fig, ax = _axes(ax, (7, 0.32 * len(t) + 1.5))
    y = np.arange(len(t))
    for k, row in enumerate(t.itertuples()):
        if np.isfinite(row.no_pool):
            ax.annotate("", xy=(row.partial_pool, k), xytext=(row.no_pool, k),
                        arrowprops={"arrowstyle": "->", "color": "0.5"})
    ax.scatter(t["no_pool"], y, s=10 + 3 * t["n"], facecolors="none", edgecolors="C1",
               label="no pooling")
    ax.scatter(t["partial_pool"], y, s=10 + 3 * t["n"], color="C0", label="partial pooling")
    ax.scatter(t["pooled_mean"], y, marker="|", s=120, color="k", label="pooled mean")
    ax.set_yticks(y, t.index)
    ax.set_xlabel(f"{effect} effect (log scale)")
    ax.legend(loc="best", fontsize=8)
    return fig


def _multiplier_axis(ax, low: float, high: float, what: str) -> None:
    """Label a log-scale x axis by the factor it multiplies the mean by."""
    factors = [f for f in (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32)
               if low - 0.3 <= np.log(f) <= high + 0.3]
    ax.set_xticks(np.log(factors), [f"×{f:g}" if f >= 1 else f"×1/{1 / f:g}"
                                    for f in factors])
    ax.axvline(0, color="0.6", lw=1, ls="--")
    ax.set_xlabel(what)


def domain_clusters_plot(domains: pd.DataFrame, clusters: pd.DataFrame, effect: str, *,
                         outcome: str = "y", ax: Axes | None = None) -> Figure:
    """One effect by domain (median, 90% interval) with each cluster's median beneath.

    Parameters
    ----------
    domains : DataFrame
        :func:`~bayescluster.analysis.clusters.group_effects` at the domain level.
    clusters : DataFrame
        :func:`~bayescluster.analysis.clusters.group_effects` at the cluster level (its
        table names each cluster's domain).
    effect : str
        The varying effect shown.
    outcome : str
        The outcome's name, for the axis label.
    ax : matplotlib Axes, optional
        Where to draw.

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    d = domains.xs(effect, level="effect").sort_values("median")
    c = clusters.xs(effect, level="effect")
    fig, ax = _axes(ax, (6.2, 0.75 * len(d) + 1.6))
    for k, (domain, row) in enumerate(d.iterrows()):
        ax.hlines(k, row["lower"], row["upper"], color="C0", lw=4, alpha=0.5)
        ax.scatter(row["median"], k, color="C0", s=60, zorder=3,
                   label="median and 90% interval" if k == 0 else None)
        mine = c[c["domain"] == domain]
        ax.scatter(mine["median"], np.full(len(mine), k - 0.28), s=8 + 1.5 * mine["n"],
                   color="C1", alpha=0.8, zorder=3, label="its groups (size: rows)"
                   if k == 0 else None)
    ax.set_yticks(np.arange(len(d)), d.index)
    ax.set_ylim(-0.7, len(d) - 0.4)
    values = np.r_[d["lower"], d["upper"], c["median"]]
    _multiplier_axis(ax, values.min(), values.max(),
                     f"{effect}: multiplies expected {outcome} by (log scale)")
    ax.legend(fontsize=8, loc="lower right")
    return fig


LEGEND_DOMAINS = 10  # domains a density panel names in its legend


def domain_densities_plot(draws: dict[str, dict[str, np.ndarray]],
                          contrast: tuple[str, np.ndarray] | None = None, *,
                          level: str = "domain") -> Figure:
    """Posterior densities of each domain's effects, and one contrast with P(> 0) shaded.

    Parameters
    ----------
    draws : dict
        ``{effect: {domain: draws}}`` on the log scale.
    contrast : (str, ndarray), optional
        A label ("bio − it, participant") and the draws of that difference.
    level : str
        What the table calls a domain, for the titles.

    Returns
    -------
    Figure
        One panel per effect, then the contrast's panel.
    """
    panels = len(draws) + (contrast is not None)
    fig = _figure((3.7 * panels, 3.0))
    axes = np.atleast_1d(fig.subplots(1, panels))
    for ax, (effect, by_domain) in zip(axes, draws.items(), strict=False):
        named = len(by_domain) <= LEGEND_DOMAINS  # more: grey lines, counted in the title
        for k, (domain, values) in enumerate(by_domain.items()):
            grid, density = _density(values)
            ax.plot(grid, density, **({"color": f"C{k}", "label": domain} if named else
                                      {"color": "0.3", "lw": 0.6, "alpha": 0.5}))
        ax.axvline(0, color="0.6", lw=1, ls="--")
        ax.set_yticks([])
        ax.set_title(f"{effect} by {level}" + ("" if named else f" ({len(by_domain)})"),
                     fontsize=10)
        ax.set_xlabel("effect (log scale)")
        if named:
            ax.legend(fontsize=7)
    if contrast is not None:
        name, values = contrast
        ax = axes[-1]
        grid, density = _density(values)
        ax.plot(grid, density, color="k")
        ax.fill_between(grid, density, where=grid > 0, color="C2", alpha=0.45,
                        label=f"P(> 0) = {(values > 0).mean():.2f}")
        ax.axvline(0, color="0.6", lw=1, ls="--")
        ax.set_yticks([])
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("difference (log scale)")
        ax.legend(fontsize=8)
    return fig


def _density(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's KDE of one sample: its grid and density."""
    from arviz_stats import kde

    curve = kde(xr.DataArray(np.asarray(values, dtype=float).ravel(), dims="sample"),
                dim="sample")
    return curve.sel(plot_axis="x").values, curve.sel(plot_axis="y").values


def rootogram_plot(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Hanging rootogram: bars of sqrt(observed) hanging from sqrt(expected).

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.checks.rootogram`' table.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    fig, ax = _axes(ax, (8, 4))
    x = np.arange(len(table))
    ax.bar(x, np.sqrt(table["observed"]), bottom=table["hanging_bottom"], color="0.75",
           edgecolor="0.4", label="observed (hanging)")
    ax.plot(x, np.sqrt(table["expected"]), "o-", color="C3", ms=3, label="expected")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x[::max(1, len(x) // 12)], table["count"].iloc[::max(1, len(x) // 12)])
    ax.set_xlabel("count")
    ax.set_ylabel("sqrt(frequency)")
    ax.legend(fontsize=8)
    return fig


def statistic_plot(observed: float, replicated: np.ndarray, name: str,
                   ax: Axes | None = None) -> Figure:
    """Histogram of T(y_rep) with T(y) and the predictive p-value.

    Parameters
    ----------
    observed : float
        T(y), drawn as a vertical line.
    replicated : ndarray
        (replicate,) T(y_rep) of each replicated data set.
    name : str
        The statistic's name, for the title.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    fig, ax = _axes(ax, (5, 3.5))
    ax.hist(replicated, bins=40, color="C0", alpha=0.7)
    ax.axvline(observed, color="k", lw=2)
    p = (replicated >= observed).mean()
    ax.set_title(f"{name}: observed {observed:.3g}, p = {p:.2f}")
    return fig


def statistics_grid(stats: dict[str, tuple[float, np.ndarray]]) -> Figure:
    """One :func:`statistic_plot` per statistic, side by side.

    Parameters
    ----------
    stats : dict
        statistic -> (T(y), T(y_rep)), as
        :func:`~bayescluster.analysis.checks.ppc_draws` returns them.

    Returns
    -------
    Figure
        One panel per statistic.
    """
    fig = _figure((4.5 * len(stats), 3.5))
    axes = fig.subplots(1, len(stats))
    for ax, (name, (obs, rep)) in zip(np.atleast_1d(axes), stats.items(), strict=True):
        statistic_plot(obs, rep, name, ax=ax)
    return fig


def facet_statistics_plot(replicates: dict[str, dict[str, tuple[float, np.ndarray]]]
                          ) -> Figure:
    """One row per facet (domain or cluster), one column per statistic.

    Parameters
    ----------
    replicates : dict
        facet -> statistic -> (T(y), T(y_rep)):
        :func:`~bayescluster.analysis.checks.ppc_facets`; every facet has the same
        statistics, and there is at least one facet.

    Returns
    -------
    Figure
        A (facet, statistic) grid of :func:`statistic_plot` panels.
    """
    facets = list(replicates)
    stats = list(replicates[facets[0]])
    fig = _figure((4 * len(stats), 2.4 * len(facets)))
    axes = fig.subplots(len(facets), len(stats), squeeze=False)
    for i, facet in enumerate(facets):
        for j, name in enumerate(stats):
            observed, replicated = replicates[facet][name]
            statistic_plot(observed, replicated, f"{facet} {name}", ax=axes[i, j])
    return fig


def loo_pit_plot(pit: np.ndarray, ax: Axes | None = None) -> Figure:
    """ECDF of LOO-PIT values against the uniform, with a 95% band.

    The band is the Kolmogorov-Smirnov one, 1.36 / sqrt(n) either side of the diagonal.

    Parameters
    ----------
    pit : ndarray
        (firm,) LOO-PIT values (:func:`~bayescluster.analysis.checks.loo_pit`).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    fig, ax = _axes(ax, (5, 4))
    x = np.sort(pit)
    n = len(x)
    ax.step(x, np.arange(1, n + 1) / n, where="post", label="LOO-PIT ECDF")
    grid = np.linspace(0, 1, 101)
    band = 1.36 / np.sqrt(n)
    ax.fill_between(grid, grid - band, grid + band, color="0.85", label="95% band (KS)")
    ax.plot(grid, grid, color="k", lw=0.8)
    ax.set_xlabel("PIT")
    ax.legend(fontsize=8)
    return fig


def effects_plot(table: pd.DataFrame, margin: str = "total", *, outcome: str = "y",
                 reference: str | None = None, reference_label: str = "reference",
                 ax: Axes | None = None) -> Figure:
    """Average marginal effects overall and per domain.

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.effects.average_marginal_effects`' table.
    margin : str
        ``total``, ``extensive`` or ``intensive``.
    outcome : str
        The outcome's name, for the axis label.
    reference : str, optional
        A column of published values to mark beside the posterior (as crosses).
    reference_label : str
        Their legend entry.
    ax : matplotlib Axes, optional
        Where to draw.

    Returns
    -------
    Figure
        The figure drawn on (``ax``'s when given).
    """
    t = table.xs(margin, level="margin")
    t = t[t.index.get_level_values("level") != "cluster"]
    fig, ax = _axes(ax, (6, 0.2 * len(t) + 1.2))
    y = np.arange(len(t))
    ax.hlines(y, t["lower"], t["upper"], color="0.4")
    ax.scatter(t["median"], y, color="C0", zorder=3, label="posterior median")
    if reference and reference in t and t[reference].notna().any():
        ax.scatter(t[reference], y, marker="x", color="C3", zorder=4, label=reference_label)
    ax.set_yticks(y, [f"{e} | {g}" for e, _, g in t.index])
    ax.axvline(0, color="0.7", ls="--")
    ax.set_xlabel(f"average marginal effect on "
                  f"{f'E[{outcome}]' if margin == 'total' else margin}")
    ax.legend(fontsize=8)
    return fig


def sbc_histograms(ranks: pd.DataFrame, bins: int = 10) -> Figure:
    """One rank histogram per parameter with the uniform's expected count and 99% band.

    Parameters
    ----------
    ranks : DataFrame
        :func:`~bayescluster.analysis.sbc.run`'s table (parameter, rank, draws).
    bins : int
        Bins of equal width over the ranks 0..L.

    Returns
    -------
    Figure
        Up to four panels a row, one per parameter; the band is the binomial's 0.5% to
        99.5% quantiles of a bin's count.
    """
    names = list(dict.fromkeys(ranks["parameter"]))
    cols = min(4, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig = _figure((3.2 * cols, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        group = ranks[ranks["parameter"] == name]
        top = int(group["draws"].iloc[0])
        ax.hist(group["rank"], bins=bins, range=(0, top + 1), color="C0", alpha=0.8)
        n = len(group)
        expected = n / bins
        lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / bins)
        ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.axhline(expected, color="k", lw=0.8)
        ax.set_title(name, fontsize=8)
        ax.set_yticks([])
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    return fig


def sbc_ecdf(ecdf: pd.DataFrame) -> Figure:
    """Each parameter's rank ECDF minus the uniform's, inside its simultaneous band.

    A calibrated model's curve stays in the grey band (with the band's probability); a
    curve above it means truths rank low (the posterior sits too high), below it the
    reverse, and a U or an arch a posterior too narrow or too wide.

    Parameters
    ----------
    ecdf : DataFrame
        :func:`~bayescluster.analysis.sbc.rank_ecdf`' table.

    Returns
    -------
    Figure
        Up to four panels a row, one per parameter.
    """
    names = list(dict.fromkeys(ecdf["parameter"]))
    cols = min(4, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig = _figure((3.2 * cols, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for ax, name in zip(axes.ravel(), names, strict=False):
        one = ecdf[ecdf["parameter"] == name]
        x = one["x"].to_numpy()
        ax.fill_between(x, one["lower"] - x, one["upper"] - x, color="0.85", step="post")
        ax.step(x, one["ecdf"] - x, where="post", color="C0", lw=1)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.set_visible(False)
    fig.supxlabel("fractional rank of the truth among the posterior draws", fontsize=8)
    fig.supylabel("rank ECDF minus uniform", fontsize=8)
    return fig


def loco_scores(table: pd.DataFrame) -> Figure:
    """Held-out (filled) and in-sample (open) elpd per row by group, a colour a model.

    How well each model predicts a cluster it has not seen.

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.loco.run`'s tables, stacked; the models are named by
        a ``model`` column, else by ``spec``.

    Returns
    -------
    Figure
        One line per cluster, elpd_loco / n and elpd_in_sample / n for each model.
    """
    by = "model" if "model" in table else "spec"
    clusters = list(dict.fromkeys(table["cluster"]))
    fig = _figure((6.4, 0.9 + 0.28 * len(clusters)))
    ax = fig.subplots()
    specs = list(dict.fromkeys(table[by]))
    for k, (spec, group) in enumerate(table.groupby(by, sort=False)):
        shift = (k - (len(specs) - 1) / 2) * 0.2
        y = np.array([clusters.index(c) for c in group["cluster"]]) + shift
        ax.plot(group["elpd_loco"] / group["n"], y, "o", color=f"C{k}", ms=4,
                label=f"{spec}: held out")
        ax.plot(group["elpd_in_sample"] / group["n"], y, "o", mfc="none", color=f"C{k}",
                ms=4, label=f"{spec}: in sample")
    ax.set_yticks(range(len(clusters)), clusters, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("elpd per row (log score; higher predicts better)")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def sensitivity_plot(table: pd.DataFrame, threshold: float) -> Figure:
    """Prior against likelihood sensitivity, one point a quantity, the flagged ones named.

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.sensitivity.sensitivity`'s table.
    threshold : float
        Where a sensitivity starts to count (drawn on both axes).

    Returns
    -------
    Figure
        The fine quantities grey, the flagged ones coloured by verdict and labelled.
    """
    fig = _figure((6.4, 5))
    ax = fig.subplots()
    from bayescluster.analysis.sensitivity import BOTH

    colours = {"fine": "0.6", "prior-data conflict": "C3", "strong prior, weak likelihood": "C1",
               BOTH: "C0"}
    for verdict, rows in table.groupby("verdict", sort=False):
        ax.plot(rows["likelihood"], rows["prior"], "o", ms=4, color=colours[verdict],
                label=f"{verdict} ({len(rows)})")
        if verdict != "fine":
            for _, row in rows.iterrows():
                ax.annotate(row["quantity"], (row["likelihood"], row["prior"]), fontsize=6,
                            xytext=(3, 2), textcoords="offset points")
    ax.axhline(threshold, color="k", lw=0.6, ls="--")
    ax.axvline(threshold, color="k", lw=0.6, ls="--")
    ax.set_xlabel("likelihood sensitivity (power-scaling)")
    ax.set_ylabel("prior sensitivity (power-scaling)")
    ax.legend(fontsize=7)
    return fig


def robustness_plot(table: pd.DataFrame) -> Figure:
    """Each quantity's mean as fitted and under each perturbation, a row per quantity.

    Parameters
    ----------
    table : DataFrame
        :func:`~bayescluster.analysis.robustness.perturbations`' table.

    Returns
    -------
    Figure
        One panel per quantity (its own scale): the fit's mean black, perturbations that
        hold grey, those that change the sign or band red, unreliable ones open.
    """
    names = list(dict.fromkeys(table["quantity"]))
    fig = _figure((6.4, 0.4 + 0.75 * len(names)))
    axes = np.atleast_1d(fig.subplots(len(names), 1))
    rng = np.random.default_rng(0)
    for ax, name in zip(axes, names, strict=True):
        rows = table[table["quantity"] == name]
        others = rows[rows["kind"] != "fit"]
        jitter = rng.uniform(-0.25, 0.25, len(others))
        for (_, row), dy in zip(others.iterrows(), jitter, strict=True):
            broken = bool(row["reliable"]) and not pd.isna(row["holds"]) and not row["holds"]
            colour = "C3" if broken else "0.55"
            ax.plot(row["mean"], dy, "o", ms=3.5, color=colour,
                    mfc=colour if row["reliable"] else "none")
        base = rows[rows["kind"] == "fit"]["mean"].iloc[0]
        ax.plot(base, 0, "D", ms=6, color="k")
        ax.axvline(0, color="0.8", lw=0.6)
        ax.set_yticks([0], [name], fontsize=7)
        ax.set_ylim(-0.6, 0.6)
        ax.tick_params(axis="x", labelsize=7)
    axes[-1].set_xlabel("mean of the finding's quantity")
    return fig


def save(fig: Figure, path: str | Path) -> None:
    """Write a figure atomically (its format from the file's suffix).

    Parameters
    ----------
    fig : Figure
        The figure, saved at 110 dpi.
    path : str or Path
        The file to write, e.g. ``forest.png``.
    """
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=str(path).rsplit(".", 1)[-1])
