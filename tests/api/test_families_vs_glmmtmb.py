"""The base distributions beyond Poisson and NB2, under each zero structure, against glmmTMB
on public tables: pscl's bioChemists (915 students, one level) and MASS's epil (59 subjects
as groups), the references from ``benchmarks/reference.R`` (``tests/reference/``).

Where the models match (the same likelihood; the Poisson-lognormal against glmmTMB's Poisson
with a row-level random intercept, its Laplace approximation of the integral taken here by
quadrature), every fixed effect's posterior mean lies within 0.3 of glmmTMB's standard
error of its estimate (the issue's criterion), plus four Monte Carlo standard errors, and
the family's own parameter's estimate lies within the posterior's 95% interval."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arviz_stats import mcse

import bayescluster as bc

pytestmark = pytest.mark.sampling

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"
WITHIN_SE = 0.3
DEGENERATE_SE = 10.0  # glmmTMB's zero part running off to -infinity (zinb1's, SE 2,258):
# a flat ridge the posterior, held by its prior, does not follow; not the same model
FORMULAS = {"biochemists": "art ~ fem + mar + kid5 + phd + ment",
            "epil": "y ~ trt + base + age + (1 | subject)"}
CASES = [("biochemists", "nb1"), ("biochemists", "genpois"), ("biochemists", "pln"),
         ("biochemists", "zip"), ("biochemists", "zinb1"), ("biochemists", "hurdle_nb1"),
         ("biochemists", "hurdle_genpois"), ("biochemists", "hurdle_poisson"),
         ("epil", "nb1"), ("epil", "genpois"), ("epil", "pln")]


def _public_data():
    spec = importlib.util.spec_from_file_location("public_data",
                                                  ROOT / "benchmarks" / "public_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _r_name(label: str) -> str:
    """``fem[Women]`` as R names it (``femWomen``); the intercept as ``(Intercept)``."""
    if label in ("intercept", "zero_intercept"):
        return "(Intercept)"
    return re.sub(r"\[([^\]]*)\]", r"\1", label)


def _draws(run, part: str) -> dict[str, np.ndarray]:
    post = run.posterior
    prefix = "zero_" if part == "zero" else ""
    out = {f"{prefix}intercept": post[f"{prefix}intercept"]}
    if f"{prefix}beta" in post:
        coef = post[f"{prefix}beta"]
        dim = coef.dims[-1]
        out.update({str(k): coef.sel({dim: k}) for k in coef[dim].values})
    return out


@pytest.mark.parametrize(("table", "family"), CASES, ids=[f"{t}-{f}" for t, f in CASES])
def test_agrees_with_glmmtmb(table, family, sampler_seed, within):
    frame = getattr(_public_data(), table)()
    kwargs = {"id": "row"} if table == "epil" else {}
    run = bc.fit(FORMULAS[table], frame, family=family, chains=2, draws=1000, tune=700,
                 seed=sampler_seed(7), quiet=True, **kwargs)
    reference = pd.read_csv(REFERENCE / f"{table}_{family}.csv")
    for part in ("count", "zero"):
        mle = reference.query("part == @part").set_index("term")
        for label, draws in _draws(run, part).items() if len(mle) else ():
            theirs = mle.loc[_r_name(label)]
            if theirs["std_error"] > DEGENERATE_SE:
                continue
            tolerance = WITHIN_SE * theirs["std_error"] + 4 * float(mcse(draws))
            assert within(f"{part} {label} mean - glmmTMB", float(draws.mean())
                          - theirs["estimate"], -tolerance, tolerance)
    own = reference.query("part == 'own'")
    for _, row in own.iterrows():
        lower, upper = np.quantile(run.posterior[row["term"]].values, [0.025, 0.975])
        assert within(f"{row['term']} glmmTMB estimate in the 95% interval",
                      row["estimate"], lower, upper)
