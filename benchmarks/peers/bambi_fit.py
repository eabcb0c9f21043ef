"""One bambi fit for the speed suite, run by its own Python (bambi needs formulae 0.6,
bayescluster 0.9, so bambi lives in ``.venv-bambi``).

    .venv-bambi/bin/python benchmarks/peers/bambi_fit.py JOB.json OUT.json

JOB: data (CSV), formula, family, seed, chains, draws, tune, target_accept, intercept_mu.
OUT: sample_s (PyMC's own sampling time), min_ess, min_tail_ess, max_rhat, divergences,
after_save_s (the time spent after the draws were on disk).
The draws are written beside OUT (``draws.nc``) before the process ends, so the process's
wall time is a user's from command to draws on disk.
"""

import json
import sys
import time
from pathlib import Path

FAMILIES = {"negbin": "negativebinomial", "zinb": "zero_inflated_negativebinomial",
            "hurdle_nb": "hurdle_negativebinomial"}


def main(job_path: str, out_path: str) -> None:
    start = time.perf_counter()
    job = json.loads(Path(job_path).read_text())
    import arviz_stats as azs
    import bambi as bmb
    import pandas as pd

    frame = pd.read_csv(job["data"])
    family = FAMILIES[job["family"]]
    priors = {"Intercept": bmb.Prior("Normal", mu=job["intercept_mu"], sigma=2.5),
              "common": bmb.Prior("Normal", mu=0.0, sigma=1.0),
              "alpha": bmb.Prior("HalfNormal", sigma=1.0)}
    if job["family"] != "negbin":
        priors["psi"] = bmb.Prior("Beta", alpha=2.0, beta=2.0)
    model = bmb.Model(job["formula"], frame, family=family, priors=priors, noncentered=True)
    if "|" in job["formula"]:
        model.set_priors(group_specific=bmb.Prior(
            "Normal", mu=0.0, sigma=bmb.Prior("Gamma", alpha=2.0, beta=5.0)))
    tree = model.fit(draws=job["draws"], tune=job["tune"], chains=job["chains"], cores=2,
                     random_seed=job["seed"], inference_method="pymc",
                     target_accept=job["target_accept"], progressbar=False,
                     compute_convergence_checks=False)
    sample_s = float(tree["sample_stats"].attrs["sampling_time"])
    tree.to_netcdf(str(Path(out_path).with_name("draws.nc")))
    saved = time.perf_counter()
    post = tree["posterior"].to_dataset()
    # population-level parameters and the group SDs (not each group's effect or offset)
    shared = [v for v in post.data_vars if ("|" not in v and not v.endswith("_mean"))
              or v.endswith("_sigma")]
    sub = post[shared]
    bulk, tail, rhat = (azs.ess(sub, method="bulk"), azs.ess(sub, method="tail"),
                        azs.rhat(sub))
    out = {"sample_s": sample_s, "parameters": shared,
           "min_ess": min(float(bulk[v].min()) for v in bulk.data_vars),
           "min_tail_ess": min(float(tail[v].min()) for v in tail.data_vars),
           "max_rhat": max(float(rhat[v].max()) for v in rhat.data_vars),
           "divergences": int(tree["sample_stats"]["diverging"].sum()),
           "after_save_s": time.perf_counter() - saved, "inside_s": saved - start}
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:3])
