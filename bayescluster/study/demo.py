"""The main job, end to end.

Fit the default model (and models to compare) on the shipped data, check the fits and
write the study's report.
"""

import json
from collections.abc import Callable
from pathlib import Path

from bayescluster.core.atomic import write_text
from bayescluster.core.defaults import CI_PROB
from bayescluster.inference.diagnostics import gate_verdict
from bayescluster.inference.fit import fit
from bayescluster.inference.run import Run, machine, save
from bayescluster.spec.parse import load_spec
from bayescluster.study.firms import load
from bayescluster.study.policy import table4_layout
from bayescluster.study.report import write_report


def demo(spec_path: Path, data_path: Path, out: Path, run_root: Path,
         compare_with: tuple[str, ...] = ("negbin_hier",),
         show: Callable[[str], None] = print, force: bool = False) -> bool:
    """Fit ``spec_path`` and each spec in ``compare_with``, then write the report.

    Each run goes to ``run_root/<spec name>`` (replacing an earlier demo's run only with
    ``force``); the gates
    and fixed effects are shown as they come, and the report of the first spec, compared
    with the others, is written into ``out``.

    Parameters
    ----------
    spec_path : Path
        The main spec: a TOML file or a shipped spec's name.
    data_path : Path
        The firm table (CSV), validated with each spec's roles.
    out : Path
        The report's folder; ``provenance.json`` is written there too.
    run_root : Path
        The parent folder of the run directories.
    compare_with : tuple of str
        Further specs (shipped names or TOML files) to fit and compare.
    show : callable
        Called with each line of progress and results.
    force : bool
        Replace an earlier run of the same spec under ``run_root``.

    Returns
    -------
    bool
        Whether the main fit passed its convergence gates (the report shows it either way).
    """
    runs = []
    for path in (spec_path, *compare_with):
        spec = load_spec(path)
        data = load(data_path, spec.roles)
        show(f"\n== fit {spec.name} on {data_path} (nutpie, 4 chains)")
        run = fit(spec, data)
        save(run, Path(run_root) / spec.name, force=force)
        show(f"run written to {run.path}")
        show("\n== convergence gates")
        text, passed = gate_verdict(run.tree)
        show(text)
        runs.append((run, passed))
    main, passed = runs[0]
    show(f"\n== fixed effects of {main.spec.name} (posterior mean, SD, {CI_PROB:.0%} interval)")
    show(table4_layout(main).round(3).to_string())
    show("\n== report (effects, clusters, domains, checks, LOO) ...")
    paths = write_report([r for r, _ in runs], out)
    write_text(Path(out) / PROVENANCE, json.dumps(provenance(main), indent=1) + "\n")
    show(f"report written to {paths['html']} and {paths['markdown']}")
    return passed


PROVENANCE = "provenance.json"


def provenance(run: Run) -> dict:
    """Where the demo's numbers came from: spec, data, settings and the machine.

    On a machine with the same :func:`~bayescluster.inference.run.machine` the demo's
    tables come out the same to the last digit; elsewhere within Monte Carlo error.

    Parameters
    ----------
    run : Run
        The demo's main run.

    Returns
    -------
    dict
        ``spec`` (its name), ``data_sha256``, ``settings`` (the sampler's) and
        ``machine``.
    """
    return {"spec": run.spec.name, "data_sha256": run.tree.attrs["data_sha256"],
            "settings": json.loads(run.tree.attrs["settings"]), "machine": machine()}
