"""A Markdown report of one run: data, model, diagnostics, fixed effects, domains."""

from pathlib import Path

import pandas as pd

from bayescluster.atomic import write_text
from bayescluster.describe import describe, overview
from bayescluster.diagnostics import stored_gates
from bayescluster.summary import fixed_effects, group_parameters, group_totals


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    frame = frame.reset_index()
    cells = [[_cell(v, digits) for v in row] for row in frame.itertuples(index=False)]
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in cells)])


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.{digits}f}"
    return str(value).replace("|", "\\|")


def render(run) -> str:
    info = overview(run.data)
    status = run.tree.attrs.get("status", "unknown")
    parts = [f"# {run.spec.name}: {run.spec.family} on {info['firms']} firms", ""]
    parts.append(f"**Fit status: {status.upper()}**" + (
        "" if status == "passed" else " — do not use these estimates before the gates pass."))
    parts += ["", "## Data", "",
              f"{info['firms']} firms in {info['clusters']} clusters and {info['domains']} "
              f"domains; {info.get('participants', 'n/a')} participants; "
              f"{run.design.n_dropped} dropped (missing = {run.spec.missing}).", "",
              markdown_table(describe(run.data), 2), "",
              "## Model", "", run.spec.description, "", "```toml", run.spec.text.strip(),
              "```", "", "## Diagnostics", ""]
    gates = stored_gates(run.tree)
    parts.append("No gates (not an MCMC fit)." if gates is None else markdown_table(gates))
    if not run.prior_only:
        parts += ["", "## Fixed effects (90% intervals)", "",
                  markdown_table(fixed_effects(run)), "", "## Group-level parameters", "",
                  markdown_table(group_parameters(run))]
        totals = group_totals(run, "domain")
        if not totals.empty:
            parts += ["", "## Domains", "", markdown_table(totals)]
    return "\n".join(parts) + "\n"


def write_report(run, out_dir: str | Path) -> Path:
    """Write ``report.md`` into ``out_dir`` atomically."""
    return write_text(Path(out_dir) / "report.md", render(run))
