"""The remedies a fit tries, in turn and within a budget, when it fails its gates.

They are what a careful statistician tries. From the gate table
(:func:`bayescluster.inference.diagnostics.gates`) a :class:`Failure` says what failed and
where. :func:`next_remedy` picks the next thing to try from the best
attempt so far, keeping what that attempt changed:

1. the other parameterisation of the group effects (centred for non-centred, or the
   reverse) first where the failure reads as a funnel (E-BFMI low, or divergences with a
   group SD mixing worst);
2. a higher ``target_accept`` (0.99), where it diverged (a smaller step through the
   curvature that made it diverge; no new compile);
3. the other parameterisation, where the fit diverged or its worst R-hat or ESS is a
   group-level parameter (a group SD, a group effect) or the intercept the groups share;
4. more draws, where the chains mix slowly but surely (only R-hat, below 1.05, and ESS
   failed), as many as the shortfall needs (at most four times as many);
5. longer tuning (three times as long), where R-hat or E-BFMI failed or it diverged.

Each remedy is a refit (a new compile only for a new parameterisation). The fit keeps the
first attempt that passes, else the best one, and records every attempt in the run
(``decisions["remedies"]``). Remedies run only at the default sample size or more
(``MIN_SAMPLE`` draws over all chains): with fewer draws a failed ESS gate says little
about the model. The budget is counted in gradient evaluations (leapfrog steps), not
seconds, so that the same seed, data and spec give the same run on any machine: the
remedies together may take ``REMEDY_BUDGET`` times the first attempt's steps, each
estimated before it starts from the first attempt's steps per iteration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescluster.core.defaults import MIN_ESS
from bayescluster.inference.diagnostics import stored_gates
from bayescluster.spec.sampling import MIN_SAMPLE

if TYPE_CHECKING:
    import numpy as np

GROUP_LEVEL = ("sd_", "cluster_", "domain_", "intercept")  # names the groups' geometry moves
ACCEPT_COST = 2.0  # steps per iteration at target_accept 0.99 against 0.9, roughly
HIGH_ACCEPT = 0.99
TUNE_FACTOR = 3
MAX_DRAW_FACTOR = 4
SLOW_RHAT = 1.05  # below it, with no divergence, more draws reach the gates
RHAT_STEP = 0.005  # R-hat's excess over 1 each draw factor takes off, roughly


@dataclass(frozen=True)
class Failure:
    """What a gate table says failed, and where."""

    failed: tuple[str, ...]
    divergences: int
    rhat: float
    rhat_at: str
    ess: float  # the smaller of min bulk and tail ESS
    ess_at: str
    ebfmi: float

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Failure:
        """Read a gate table (gate, value, passed, worst).

        Parameters
        ----------
        table : DataFrame
            :func:`~bayescluster.inference.diagnostics.gates`' table.

        Returns
        -------
        Failure
            The failed gates, the divergences, the worst R-hat, ESS (the smaller of bulk
            and tail) and E-BFMI, and where the worst R-hat and ESS are.
        """
        row = {r.gate: r for r in table.itertuples()}
        bulk, tail = row["min bulk ESS"], row["min tail ESS"]
        low = bulk if bulk.value <= tail.value or np.isnan(bulk.value) else tail

        def finite(value, otherwise):  # NaN: too few draws to estimate it
            return float(value) if np.isfinite(value) else otherwise

        return cls(tuple(table.loc[~table["passed"], "gate"]), int(row["divergences"].value),
                   finite(row["max R-hat"].value, np.inf), str(row["max R-hat"].worst),
                   finite(low.value, 0.0), str(low.worst),
                   finite(row["min E-BFMI"].value, 0.0))

    @property
    def passed(self) -> bool:
        """Whether every gate passed."""
        return not self.failed


    @property
    def group_level(self) -> bool:
        """Whether the worst R-hat or ESS sits at a group-level parameter or the intercept."""
        return any(at.startswith(GROUP_LEVEL) for at in (self.rhat_at, self.ess_at)
                   if at)

    @property
    def slow(self) -> bool:
        """Whether the chains mix slowly but surely.

        Only R-hat (below ``SLOW_RHAT``) and ESS failed: no divergence, a good E-BFMI.
        """
        return (bool(self.failed) and self.rhat < SLOW_RHAT
                and set(self.failed) <= {"max R-hat", "min bulk ESS", "min tail ESS"})

    @property
    def funnel(self) -> bool:
        """Whether the failure reads as a funnel.

        E-BFMI low, or divergences with a group SD mixing worst: the parameterisation is
        then the first thing to change.
        """
        worst_sd = any(at.startswith("sd_") for at in (self.rhat_at, self.ess_at) if at)
        return "min E-BFMI" in self.failed or bool(self.divergences and worst_sd)

    @property
    def score(self) -> tuple:
        """Smaller is better: gates failed, then divergences, R-hat, ESS."""
        return (len(self.failed), self.divergences, round(self.rhat, 3), -self.ess)

    def text(self) -> str:
        """The failing gates in words, with where the worst value is.

        Returns
        -------
        str
            E.g. ``"12 divergent transitions; R-hat 1.030 at sd_cluster[intercept]"``
            (empty when every gate passed).
        """
        parts = []
        if "divergences" in self.failed:
            parts.append(f"{self.divergences} divergent transitions")
        if "max R-hat" in self.failed:
            parts.append(f"R-hat {self.rhat:.3f} at {self.rhat_at}")
        if any("ESS" in g for g in self.failed):
            parts.append(f"ESS {self.ess:.0f} at {self.ess_at}")
        if "min E-BFMI" in self.failed:
            parts.append(f"E-BFMI {self.ebfmi:.2f}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Remedy:
    """One refit to try: what changes, and why."""

    what: str
    parameterization: str | None = None  # a new parameterisation of the group effects
    target_accept: float | None = None
    tune: int | None = None
    draws: int | None = None


def cost(remedy: Remedy, settings: dict, steps_per_iteration: float, chains: int) -> float:
    """The leapfrog steps a remedy is expected to take, from the attempt it starts from.

    Parameters
    ----------
    remedy : Remedy
        The refit to try.
    settings : dict
        The starting attempt's ``target_accept``, ``tune`` and ``draws``.
    steps_per_iteration : float
        Leapfrog steps per iteration of the first attempt.
    chains : int
        Chains of the refit.

    Returns
    -------
    float
        Steps over all chains, tuning and draws; twice as many per iteration where the
        remedy raises ``target_accept`` to 0.99.
    """
    tune = remedy.tune or settings["tune"]
    draws = remedy.draws or settings["draws"]
    accept = ACCEPT_COST if (remedy.target_accept or settings["target_accept"]) >= \
        HIGH_ACCEPT and settings["target_accept"] < HIGH_ACCEPT else 1.0
    return steps_per_iteration * accept * chains * (tune + draws)


def other_parameterization(centred: np.ndarray | None) -> str:
    """The other form of the group effects: non-centred if any group was centred.

    Parameters
    ----------
    centred : ndarray or None
        (cluster,) True where the attempt sampled a cluster's effects centred; None
        without group effects.

    Returns
    -------
    str
        ``"noncentered"`` or ``"centered"``.
    """
    return "noncentered" if centred is not None and centred.any() else "centered"


def next_remedy(failure: Failure, settings: dict, *, hierarchical: bool,
                centred: np.ndarray | None, tried: set[str],
                original_tune: int) -> Remedy | None:
    """The next remedy for the best attempt's ``failure``, or None when none is left.

    Parameters
    ----------
    failure : Failure
        The best attempt's.
    settings : dict
        That attempt's ``target_accept``, ``tune`` and ``draws``.
    hierarchical : bool
        Whether the model has group effects.
    centred : ndarray or None
        The attempt's centred groups.
    tried : set of str
        The kinds of remedy tried already (``target_accept``, ``parameterization``,
        ``tune``, ``draws``).
    original_tune : int
        The first attempt's tuning steps.

    Returns
    -------
    Remedy or None
        What to change next, from that attempt's settings.
    """
    switch = hierarchical and "parameterization" not in tried
    if switch and failure.funnel:
        return _switch(centred)
    if failure.divergences and "target_accept" not in tried and \
            settings["target_accept"] < HIGH_ACCEPT:
        return Remedy(f"target_accept {HIGH_ACCEPT}", target_accept=HIGH_ACCEPT)
    if switch and (failure.divergences or failure.group_level):
        return _switch(centred)
    if failure.slow and "draws" not in tried and _draw_factor(failure) > 1:
        draws = _draw_factor(failure) * settings["draws"]
        return Remedy(f"{draws:,} draws a chain", draws=draws)
    if ({"max R-hat", "min E-BFMI"} & set(failure.failed) or failure.divergences) and \
            "tune" not in tried:
        tune = TUNE_FACTOR * original_tune
        return Remedy(f"{tune:,} tuning steps", tune=tune)
    return None


def _draw_factor(failure: Failure) -> int:
    """How many times the draws the gates need, from the ESS and R-hat short of them.

    ESS grows with the draws; R-hat's excess over 1 shrinks about as their inverse
    (``RHAT_STEP`` a doubling, from where slow chains sit).
    """
    need = math.ceil(1.2 * MIN_ESS / failure.ess) if failure.ess > 0 else MAX_DRAW_FACTOR
    if "max R-hat" in failure.failed:
        need = max(need, math.ceil(min((failure.rhat - 1.0) / RHAT_STEP, MAX_DRAW_FACTOR)))
    return min(MAX_DRAW_FACTOR, need)


def _switch(centred) -> Remedy:
    mode = other_parameterization(centred)
    return Remedy(f"the {mode.replace('non', 'non-')} parameterisation of the group effects",
                  parameterization=mode)


def fix(failure: Failure, hint: Callable[[str, Any], str], settings: dict) -> str:
    """What to do next, for a run that still fails: names the parameter and the option.

    ``hint(key, value)`` is the spec's :meth:`~bayescluster.spec.parse.Spec.hint`.

    Parameters
    ----------
    failure : Failure
        The kept attempt's.
    hint : callable
        ``hint(key, value)``: how the user sets ``key`` to ``value`` (a TOML key or an
        option).
    settings : dict
        The kept attempt's sampler settings (``target_accept``, ``draws``).

    Returns
    -------
    str
        One or more fixes joined by "; or ": more draws where R-hat or ESS fails, a higher
        ``target_accept`` after divergences, longer tuning for a low E-BFMI, and, where a
        group SD diverges or has a low E-BFMI, a more informative prior on it for few
        groups.
    """
    where = failure.ess_at if any("ESS" in g for g in failure.failed) else failure.rhat_at
    steps = []
    if any(g.startswith(("max R-hat", "min bulk ESS", "min tail ESS")) for g in failure.failed) \
            or not failure.failed:
        draws = min(MAX_DRAW_FACTOR, max(2, math.ceil(1.2 * MIN_ESS / max(failure.ess, 1.0))))
        steps.append(f"more draws: pass --draws {draws * settings['draws']}")
    if failure.divergences and settings["target_accept"] < HIGH_ACCEPT:
        steps.append(hint("target_accept", HIGH_ACCEPT))
    if "min E-BFMI" in failure.failed:  # geometry, not too few draws
        steps.append("longer tuning (a low E-BFMI: the momentum's energy does not match the "
                     f"posterior's): {hint('tune', 3 * settings['tune'])}")
    if where.startswith("sd_") and (failure.divergences or "min E-BFMI" in failure.failed):
        prior = "sd_domain" if where.startswith("sd_domain") else "sd_cluster"
        steps.append(f"if there are few groups, a more informative prior on {prior} (they "
                     f"say little about their SD): {hint('prior', prior)}")
    if not steps:
        draws = min(MAX_DRAW_FACTOR, max(2, math.ceil(1.2 * MIN_ESS / max(failure.ess, 1.0))))
        steps.append(f"more draws: pass --draws {draws * settings['draws']}")
    return "; or ".join(step.rstrip(".") for step in steps) + "."


def failed_message(run: Any) -> str:
    """One paragraph on a failed run: the gates, where, what was tried and the fix.

    Parameters
    ----------
    run : Run
        A run that failed its gates (:class:`~bayescluster.inference.run.Run`; not
        imported here, as that module imports this one).

    Returns
    -------
    str
        The message of its :class:`~bayescluster.core.errors.ConvergenceWarning`.
    """
    failure = Failure.from_table(stored_gates(run.tree))
    decisions = json.loads(run.tree.attrs.get("decisions", "{}"))
    tried = [t["remedy"] for t in decisions.get("remedies", {}).get("tried", [])
             if t.get("passed") is not None]
    done = f"; tried {', '.join(tried)}" if tried else ""
    settings = json.loads(run.tree.attrs.get("settings", "{}"))
    if not tried and settings.get("chains", 4) * settings.get("draws", 1000) < MIN_SAMPLE:
        done = (f" (no remedy was tried: they start at {MIN_SAMPLE:,} draws over all "
                "chains)")
    return (f"the fit of {run.spec.name!r} failed its convergence gates ({failure.text()})"
            f"{done}: its estimates may be wrong. Fix: {fix(failure, run.spec.hint, settings)}")
