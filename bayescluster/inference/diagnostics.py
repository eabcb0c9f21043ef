"""Convergence gates checked after every MCMC fit.

A fit passes its gates (:data:`bayescluster.core.defaults.GATES`: max R-hat <= 1.01, min
bulk and tail ESS >= 400, no divergent transitions, every chain's E-BFMI >= 0.3) over all
posterior variables; elements that are constant by construction, like a correlation
matrix's diagonal, are skipped.
"""

import io
import warnings

import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats import bfmi, ess, rhat

from bayescluster.core.defaults import GATES


def _worst(ds: xr.Dataset, largest: bool) -> tuple[float, str]:
    best, where = (-np.inf if largest else np.inf), ""
    for name, da in ds.data_vars.items():
        values = np.asarray(da.values, dtype=float)
        if not np.isfinite(values).any():
            continue
        idx = np.nanargmax(values) if largest else np.nanargmin(values)
        value = values.flat[idx]
        if (value > best) if largest else (value < best):
            label = name
            if da.ndim:
                pos = np.unravel_index(idx, values.shape)
                label += "[" + ", ".join(str(da[d].values[i]) if d in da.coords else str(i)
                                         for d, i in zip(da.dims, pos, strict=True)) + "]"
            best, where = float(value), label
    if np.isinf(best):  # no variable has a finite value: too few draws to estimate it
        return np.nan, "no finite value (too few draws)"
    return best, where


def gates(tree: xr.DataTree) -> pd.DataFrame:
    """The gate table: gate, value, threshold, passed, and where the worst value is.

    Parameters
    ----------
    tree : xarray.DataTree
        A fit's draws, with ``posterior`` and ``sample_stats`` (``diverging``,
        ``energy``).

    Returns
    -------
    DataFrame
        One row per gate of :data:`~bayescluster.core.defaults.GATES`, in their order:
        ``gate``, ``value``, ``rule`` (e.g. ``<= 1.01``), ``passed`` and ``worst`` (the
        variable and coordinates, or the chain, of the worst value).
    """
    post = tree["posterior"].to_dataset()
    post = post.drop_vars([v for v in post.data_vars if post[v].ndim == 2 and
                           float(post[v].std()) == 0.0])
    stats = tree["sample_stats"].to_dataset()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        r, r_at = _worst(rhat(post), largest=True)
        eb, eb_at = _worst(ess(post, method="bulk"), largest=False)
        et, et_at = _worst(ess(post, method="tail"), largest=False)
    diverging = int(np.asarray(stats["diverging"].values).sum())
    e = np.asarray(bfmi(tree["sample_stats"].to_dataset()["energy"]).values).ravel()
    rows = [(r, r_at), (eb, eb_at), (et, et_at), (diverging, ""),
            (float(e.min()), f"chain {int(e.argmin())}")]
    table = []
    for (name, op, threshold), (value, at) in zip(GATES, rows, strict=True):
        # a value that cannot be estimated (NaN: too few draws) fails its gate
        passed = np.isfinite(value) and (value <= threshold if op == "<=" else
                                         value >= threshold)
        table.append({"gate": name, "value": value, "rule": f"{op} {threshold}",
                      "passed": bool(passed), "worst": at})
    return pd.DataFrame(table)


def stored_gates(tree: xr.DataTree) -> pd.DataFrame | None:
    """The gate table saved with a run (None for prior-only or approximate runs).

    Parameters
    ----------
    tree : xarray.DataTree
        A run's tree (its ``gates`` attribute).

    Returns
    -------
    DataFrame or None
        :func:`gates`' table as it was saved.
    """
    raw = tree.attrs.get("gates")
    return None if raw is None else pd.read_json(io.StringIO(raw))


def format_gates(table: pd.DataFrame) -> str:
    """The gate table as aligned text, one gate a line.

    Parameters
    ----------
    table : DataFrame
        :func:`gates`' table.

    Returns
    -------
    str
        A header line, then each gate's value, rule, ``ok`` or ``FAIL`` and where the
        worst value is.
    """
    lines = [f"{'gate':<14} {'value':>10}  {'rule':<8} {'':<5} worst at"]
    for row in table.itertuples():
        value = f"{row.value:.3f}" if isinstance(row.value, float) else str(row.value)
        mark = "ok" if row.passed else "FAIL"
        lines.append(f"{row.gate:<14} {value:>10}  {row.rule:<8} {mark:<5} {row.worst}")
    return "\n".join(lines)


def gate_verdict(tree: xr.DataTree) -> tuple[str, bool]:
    """A saved run's gate table and verdict as text, and whether it passed.

    Runs without gates (prior-only, approximate) pass: there is nothing to fail.

    Parameters
    ----------
    tree : xarray.DataTree
        A run's tree.

    Returns
    -------
    text : str
        :func:`format_gates`' table and a ``gates: PASSED`` or ``gates: FAILED`` line, or
        a line saying the run has no gates.
    passed : bool
        Whether every gate passed (True without gates).
    """
    table = stored_gates(tree)
    if table is None:
        return f"no convergence gates for a {tree.attrs.get('status')} run", True
    passed = bool(table["passed"].all())
    verdict = "gates: PASSED" if passed else "gates: FAILED (the run is marked failed)"
    return f"{format_gates(table)}\n{verdict}", passed
