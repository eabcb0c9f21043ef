"""The main job, end to end: validate the shipped data, fit the default model, check it,
summarise it and write a report."""

from argparse import Namespace
from pathlib import Path

from bayescluster.cli_analysis import cmd_compare, cmd_effects, cmd_ppc
from bayescluster.cli_fit import GATES_FAILED, print_gates
from bayescluster.data import load
from bayescluster.fit import fit
from bayescluster.report import write_report
from bayescluster.runs import save
from bayescluster.spec import load_spec
from bayescluster.summary import fixed_effects


def demo(spec_path: Path, data_path: Path, out: Path, run_dir: Path) -> int:
    spec = load_spec(spec_path)
    data = load(data_path, spec.roles)
    print(f"\n== fit {spec.name} on {data_path} (4 chains x 1000 draws, nutpie)")
    run = fit(spec, data)
    save(run, run_dir, force=True)
    print(f"run written to {run_dir}")
    print("\n== convergence gates")
    passed = print_gates(run)
    print("\n== fixed effects (posterior mean, SD, 90% interval)")
    print(fixed_effects(run).round(3).to_string())
    path = write_report(run, out)
    print(f"\n== report written to {path}")
    analysis = Namespace(run=run_dir, effect="participant", clusters=None,
                         domains=["bio", "it"], top=3, profile=None, by_cluster=False,
                         max_draws=1000)
    for name, command in (("compare", cmd_compare), ("effects", cmd_effects),
                          ("ppc", cmd_ppc)):
        command(Namespace(**vars(analysis), out=Path(out) / name))
    print(f"\n== tables and figures written under {out}")
    return 0 if passed else GATES_FAILED
