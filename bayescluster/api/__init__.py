"""The front door: ``import bayescluster as bc``.

``bc.fit``, ``bc.load_run``, ``bc.report`` and the analyses take names, paths or in-memory
objects.

Errors are the package's exceptions (:class:`~bayescluster.core.errors.BayesclusterError`
and its kinds); only the command line turns them into exit codes.
"""

from pathlib import Path
from typing import Any

import pandas as pd

from bayescluster.analysis.checks import compare_runs as compare_models
from bayescluster.analysis.checks import loo, ppc_statistics, rootogram
from bayescluster.analysis.clusters import contrast, group_effects, ranks, shrinkage
from bayescluster.analysis.effects import average_marginal_effects, profile_predictions
from bayescluster.analysis.predict import new_rows, predict_draws
from bayescluster.analysis.predict import predict as _predict
from bayescluster.analysis.summary import fixed_effects, group_totals, parameters
from bayescluster.core.errors import RunError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.data.table import FirmData
from bayescluster.inference.fit import fit as _fit
from bayescluster.inference.run import Run
from bayescluster.inference.run import load as load_run
from bayescluster.spec.choose import chosen_spec, formula_spec
from bayescluster.spec.parse import Spec, load_spec
from bayescluster.study import firms
from bayescluster.study.registry import cluster_domains
from bayescluster.study.report import write_report

__all__ = [
    "Run", "average_marginal_effects", "compare_models", "contrast", "fit", "fixed_effects",
    "formula_spec",
    "group_effects", "group_totals", "load_run", "loco", "loo", "parameters", "ppc_statistics",
    "load_spec", "predict", "predict_draws", "profile_predictions", "ranks", "report",
    "rootogram", "sbc", "sensitivity", "shrinkage", "table",
]


def table(data: FirmData | pd.DataFrame | str | Path | None, model: Spec) -> FirmData:
    """A validated firm table for ``model`` from a path, a DataFrame or a FirmData.

    None means the shipped synthetic table. A table without a domain column takes each
    cluster's domain from the Industrial Cluster Project registry.

    Parameters
    ----------
    data : FirmData, DataFrame, str, Path or None
        The table, or the path of a CSV file; a FirmData is returned as it is.
    model : Spec
        The model whose roles the table is validated against.

    Returns
    -------
    FirmData
        The validated table.

    Examples
    --------
    >>> spec = bc.formula_spec("y ~ x + (1 | g)", table, family="negbin", id="id")
    >>> bc.table(table, spec).frame.shape
    (120, 4)
    """
    if isinstance(data, FirmData):
        return data
    if data is None:
        data = DEFAULT_DATA
    return firms.validate(data, model.roles)


def fit(model: Spec | str | Path, data: FirmData | pd.DataFrame | str | Path | None = None,
        *, family: str | None = None, zero_formula: str | None = None,
        roles: dict[str, str] | None = None, id: str | None = None,
        missing: str | None = None, baselines: dict[str, str] | None = None,
        parameterization: str | None = None, priors: dict | None = None,
        **settings: Any) -> Run:
    """Fit a model to a table.

    Parameters
    ----------
    model : Spec, str or Path
        A shipped spec's name (``"zinb_hier"``), a TOML file, a
        :class:`~bayescluster.spec.parse.Spec`, or a formula
        (``"pat ~ x + log(z) + (1 + x | domain/cluster)"``, see
        :func:`~bayescluster.spec.choose.formula_spec`).
    data : DataFrame, str, Path or FirmData, optional
        The table (default: the shipped synthetic firm table).
    family : str, optional
        For a formula only: the likelihood family (default ``zinb``).
    zero_formula : str, optional
        For a formula only: the zero part's formula, ``"~ 1 + x"``.
    roles : dict, optional
        For a formula only: covariate -> role, overriding what the data suggest.
    id : str, optional
        For a formula only: the row id column.
    missing : {"impute", "drop"}, optional
        The missing-data rule: a formula's, or in place of a spec's ``missing``.
    baselines : dict, optional
        Categorical covariate -> its baseline level: a formula's, or in place of a spec's
        ``[baselines]``.
    parameterization : {"auto", "noncentered", "centered"}, optional
        How the group effects are sampled: a formula's, or in place of a spec's
        ``[hierarchy] parameterization``.
    priors : dict, optional
        Priors by key: a formula's, or in place of those keys of a spec's ``[priors]``.
    **settings
        Sampler options of :func:`bayescluster.inference.fit.fit` (``sampler``,
        ``chains``, ``draws``, ``tune``, ``seed``, ``target_accept``, ``prior_only``,
        ``quiet``, ``backend``, ``remedies``, ``remedy_budget``).

    Returns
    -------
    Run
        The fit; ``run.tree`` is its ArviZ DataTree, ``run.save(path)`` writes it. A run
        that failed its convergence gates warns (:class:`~bayescluster.ConvergenceWarning`).

    Examples
    --------
    A formula on any count table (``table``: a count ``y``, a covariate ``x``, a grouping
    column ``g`` and an ``id``); few draws here, the defaults (4 x 1000) for real work:

    >>> run = bc.fit("y ~ x + (1 | g)", table, family="negbin", id="id", seed=1,
    ...              chains=2, draws=300, tune=300, quiet=True)
    >>> run.spec.family, len(run.design.cluster_labels)
    ('negbin', 6)

    The study's default model on the shipped firms: ``bc.fit("zinb_hier", seed=1)``.
    """
    chosen = chosen_spec(model, data.frame if isinstance(data, FirmData) else data,
                         family=family, zero_formula=zero_formula, roles=roles, id=id,
                         missing=missing, baselines=baselines,
                         parameterization=parameterization, priors=priors)
    return _fit(chosen, table(data, chosen), **settings)


def report(runs: Run | list[Run], out_dir: str | Path, *, force: bool = False,
           **options: Any) -> dict[str, Path]:
    """Write the HTML and Markdown report of ``runs`` into ``out_dir``.

    The first run is reported on, the others compared with it; returns the files' paths.

    Parameters
    ----------
    runs : Run or list of Run
        The run reported on, or it followed by the runs to compare it with.
    out_dir : str or Path
        The report's directory (created if missing).
    force : bool
        Write into a directory that already holds files (refused otherwise, as the command
        line refuses it without ``--force``).
    **options
        The report's options (``domains``, ``effect``, ``max_draws``, ``reloo``,
        ``influence`` (refits where a finding's reweighting fails, on Dask: ``{"workers":
        2}``, ``scheduler``, ``security``...), ``progress``; see
        :func:`bayescluster.reporting.build.build`).

    Returns
    -------
    dict of str to Path
        ``markdown`` and ``html``: the paths of ``report.md`` and ``index.html``.

    Raises
    ------
    RunError
        When ``out_dir`` already holds files and ``force`` is not set.

    Examples
    --------
    >>> paths = bc.report(run, tmp / "report", max_draws=200, reloo=0)
    average marginal effects over 200 draws ...
    appendix: data, model, diagnostics, predictive checks, LOO ...
    >>> sorted(paths)
    ['html', 'markdown']
    >>> paths["markdown"].read_text().splitlines()[0].startswith("# ")
    True
    """
    folder = Path(out_dir)
    if not force and folder.is_dir() and any(folder.iterdir()):
        raise RunError(f"report folder {str(folder)!r} already holds files. Fix: choose "
                       "another folder, or pass force=True to write over them.")
    return write_report(runs, out_dir, **options)


def sbc(model: Spec | str | Path, data: FirmData | pd.DataFrame | str | Path | None = None,
        **options: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulation-based calibration of ``model`` on ``data``'s covariates.

    ``options`` are :func:`bayescluster.analysis.sbc.run`'s (``sims``, ``chains``,
    ``draws``, ``tune``, ``thin``, ``seed``, ``scheduler``, ``workers``...).

    Parameters
    ----------
    model : Spec, str or Path
        A shipped spec's name, a TOML file, a :class:`~bayescluster.spec.parse.Spec` or a formula.
    data : DataFrame, str, Path or FirmData, optional
        The table whose covariates the simulations keep (default: the shipped synthetic
        firm table).
    **options
        :func:`bayescluster.analysis.sbc.run`'s options.

    Returns
    -------
    ranks : DataFrame
        One row per simulation and parameter: the true value's rank among the thinned
        posterior draws.
    uniformity : DataFrame
        Per parameter: the chi-square test of the ranks' histogram and whether the rank
        ECDF stays in its simultaneous 99 % band.

    Examples
    --------
    Two simulations on one local worker (hundreds for a real check; ``reports/sbc/``):

    >>> ranks, uniformity = bc.sbc("y ~ x + (1 | g)", table, sims=2, chains=1, draws=100,
    ...                            tune=100, workers=1)
    sbc: drawing 2 simulations from the prior of formula
    ...
    >>> sorted(set(ranks["sim"]))
    [0, 1]
    """
    from bayescluster.analysis import sbc as calibration

    chosen = chosen_spec(model, data.frame if isinstance(data, FirmData) else data)
    ranks = calibration.run(chosen, table(data, chosen), **options)
    return ranks, calibration.uniformity(ranks)


def loco(run: Run, **options: Any) -> pd.DataFrame:
    """Leave-one-cluster-out: refit without each cluster and score its firms.

    ``options`` are :func:`bayescluster.analysis.loco.run`'s (``chains``, ``draws``,
    ``tune``, ``seed``, ``scheduler``, ``workers``, ``security``...); the refits run on
    Dask, a ``LocalCluster`` on this machine unless ``scheduler`` names a running one.

    Parameters
    ----------
    run : Run
        A fitted run whose effects vary by cluster, with at least 3 clusters.
    **options
        :func:`bayescluster.analysis.loco.run`'s options.

    Returns
    -------
    DataFrame
        One row per cluster: ``elpd_loco`` (its firms' log predictive density when it was
        held out), ``elpd_in_sample``, ``n`` and the refit's ``divergences``.

    Examples
    --------
    >>> held_out = bc.loco(run, chains=1, draws=100, tune=100, workers=1)
    loco fits (formula): 1/7 done
    ...
    >>> len(held_out) == len(run.design.cluster_labels)
    True
    """
    from bayescluster.analysis import loco as held_out

    return held_out.run(run.spec, run.data, **options)


def sensitivity(run: Run, **options: Any) -> pd.DataFrame:
    """Prior and likelihood sensitivity by power-scaling, with a verdict per quantity.

    ``options`` are :func:`bayescluster.analysis.sensitivity.sensitivity`'s
    (``max_draws``, ``effects``, ``domains``, ``threshold``). No refit: the draws are
    reweighted.

    Parameters
    ----------
    run : Run
        A fitted run, any family, grouped or single-level.
    **options
        :func:`bayescluster.analysis.sensitivity.sensitivity`'s options.

    Returns
    -------
    DataFrame
        One row per parameter and derived quantity: ``quantity``, ``kind``, ``prior``,
        ``likelihood``, ``prior_quantile`` and ``verdict`` (fine; strong prior, weak
        likelihood; prior and data both inform; prior-data conflict).

    Examples
    --------
    >>> table_ = bc.sensitivity(run, effects=False)
    >>> list(table_.columns)
    ['quantity', 'kind', 'prior', 'likelihood', 'prior_quantile', 'verdict']
    """
    from bayescluster.analysis.sensitivity import sensitivity as power_scaling

    return power_scaling(run, **options)


def predict(run: Run, new_data: pd.DataFrame | str | Path, **options: Any) -> pd.DataFrame:
    """Predicted counts for new rows (:func:`bayescluster.analysis.predict.predict`).

    ``new_data`` is a path or DataFrame with the run's covariate and grouping columns (the
    outcome is not needed); on the study's firm table without a domain column, the
    clusters' domains come from the Industrial Cluster Project registry. Options:
    ``counterfactual``, ``ci_prob``, ``max_draws``, ``seed``. The columns name the groups
    ``cluster`` and ``new_cluster`` whatever the table calls them, as every table the
    Python functions return does; the command line writes the table's own names.

    Parameters
    ----------
    run : Run
        A fitted run.
    new_data : DataFrame, str or Path
        The new rows, or the path of a CSV file of them.
    **options
        :func:`bayescluster.analysis.predict.predict`'s options (``counterfactual``,
        ``ci_prob``, ``max_draws``, ``seed``).

    Returns
    -------
    DataFrame
        One row per new row: its mean count with interval, the count's predictive
        interval and P(zero), indexed by ``row`` (from 0, in the new rows' order).

    Examples
    --------
    A row in a known group and one in a group the fit never saw (drawn from the hierarchy):

    >>> new = pd.DataFrame({"id": [1, 2], "x": [0.0, 0.0], "g": ["g0", "elsewhere"]})
    >>> bc.predict(run, new).shape[0]
    2
    """
    return _predict(run, new_rows(run, new_data, domains=cluster_domains()), **options)
