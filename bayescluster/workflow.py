"""The main job, end to end: fit the default model (and a comparison model) on the shipped
data, check the fits and write the report."""

from pathlib import Path

from bayescluster.cli_fit import GATES_FAILED, print_gates
from bayescluster.data import load
from bayescluster.fit import fit
from bayescluster.report import write_report
from bayescluster.runs import save
from bayescluster.spec import load_spec
from bayescluster.summary import fixed_effects


def demo(spec_path: Path, data_path: Path, out: Path, run_root: Path,
         compare_with: tuple[str, ...] = ("negbin_hier",)) -> int:
    """Fit ``spec_path`` and each spec in ``compare_with`` into ``run_root/<spec name>``,
    print the gates and fixed effects, and write the report into ``out``. Returns 0, or
    GATES_FAILED when the main fit fails its gates (the report still shows it, as failed)."""
    runs = []
    for path in (spec_path, *compare_with):
        spec = load_spec(path)
        data = load(data_path, spec.roles)
        print(f"\n== fit {spec.name} on {data_path} (nutpie, 4 chains)")
        run = fit(spec, data)
        save(run, Path(run_root) / spec.name, force=True)
        print(f"run written to {run.path}")
        print("\n== convergence gates")
        passed = print_gates(run)
        runs.append((run, passed))
    main, passed = runs[0]
    print(f"\n== fixed effects of {main.spec.name} (posterior mean, SD, 90% interval)")
    print(fixed_effects(main).round(3).to_string())
    print("\n== report (effects, clusters, domains, checks, LOO) ...")
    paths = write_report([r for r, _ in runs], out)
    print(f"report written to {paths['html']} and {paths['markdown']}")
    return 0 if passed else GATES_FAILED
