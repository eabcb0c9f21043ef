"""Run directories: one netCDF file (``run.nc``, an ``xarray.DataTree``) that describes itself.

Its attrs hold the spec's TOML, a hash of the data, package versions, sampler settings and
seeds, and the gate verdict; the group ``firm_data`` holds the validated firm table, so
:func:`load` rebuilds spec, data, design and model without pickle.
"""

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayescluster.atomic import atomic_path
from bayescluster.data import FirmData, validate
from bayescluster.design import make_design
from bayescluster.errors import RunError
from bayescluster.spec import parse_spec

RUN_FILE = "run.nc"
PACKAGES = ("bayescluster", "pymc", "pytensor", "arviz-base", "arviz-stats", "nutpie", "numpy",
            "pandas", "xarray")


def data_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _versions() -> dict:
    return {p: version(p) for p in PACKAGES}


def stamp(tree: xr.DataTree, spec, data: FirmData, design, settings: dict,
          timings: dict) -> None:
    """Write what the run needs to describe and rebuild itself into ``tree``."""
    frame = data.frame
    tree["firm_data"] = xr.DataTree(_frame_to_dataset(frame))
    tree.attrs.update({
        "bayescluster_spec": spec.text,
        "spec_name": spec.name,
        "family": spec.family,
        "data_sha256": data_hash(frame),
        "package_versions": json.dumps(_versions()),
        "settings": json.dumps(settings),
        "timings": json.dumps({k: round(v, 3) for k, v in timings.items()}),
        "n_firms_used": int(design.n_firms),
        "n_dropped": int(design.n_dropped),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    if "posterior" in tree.children and settings["sampler"] in ("nutpie", "pymc"):
        from bayescluster.diagnostics import gates

        table = gates(tree)
        tree.attrs["gates"] = table.to_json(orient="records")
        tree.attrs["status"] = "passed" if table["passed"].all() else "failed"
    elif "posterior" in tree.children:
        tree.attrs["status"] = "approximate"
    else:
        tree.attrs["status"] = "prior"


def _frame_to_dataset(frame: pd.DataFrame) -> xr.Dataset:
    variables = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            variables[column] = ("row", values.to_numpy(dtype=float))
        else:
            variables[column] = ("row", values.fillna("").astype(str).to_numpy(dtype=str))
    ds = xr.Dataset(variables)
    ds.attrs["columns"] = json.dumps(list(frame.columns))
    ds.attrs["dtypes"] = json.dumps({c: str(frame[c].dtype) for c in frame.columns})
    return ds


def _dataset_to_frame(ds: xr.Dataset) -> pd.DataFrame:
    columns = json.loads(ds.attrs["columns"])
    dtypes = json.loads(ds.attrs.get("dtypes", "{}"))
    out = {}
    for column in columns:
        values = pd.Series(ds[column].values)
        if values.dtype.kind in "OUS":
            values = values.astype(str).replace("", np.nan)
        if column in dtypes:  # integer and boolean columns were stored as float
            values = values.astype(dtypes[column])
        out[column] = values
    return pd.DataFrame(out)[columns]


def save(run, out_dir: str | Path, force: bool = False) -> Path:
    """Write ``run`` to ``out_dir/run.nc`` atomically; refuse to overwrite without ``force``."""
    out_dir = Path(out_dir)
    target = out_dir / RUN_FILE
    if target.exists() and not force:
        raise RunError(f"{out_dir} already holds a run. Fix: choose another --out or pass "
                       "--force to overwrite it.")
    with atomic_path(target) as tmp:
        run.tree.to_netcdf(tmp, engine="netcdf4")
    run.path = out_dir
    return target


def load(run_dir: str | Path):
    """Rebuild a :class:`~bayescluster.fit.Run` from its directory (spec and data included)."""
    from bayescluster.fit import Run

    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.exists():
        raise RunError(f"{run_dir} holds no run ({RUN_FILE} not found). Fix: give a directory "
                       "written by `bayescluster fit --out`.")
    with xr.open_datatree(path, engine="netcdf4") as handle:
        tree = handle.load()
    spec = parse_spec(tree.attrs["bayescluster_spec"], f"{run_dir}/spec")
    frame = _dataset_to_frame(tree["firm_data"].to_dataset())
    data = validate(frame, spec.roles)
    if data_hash(data.frame) != tree.attrs["data_sha256"]:
        raise RunError(f"{path}: the stored firm table does not match its hash; the file is "
                       "damaged. Fix: refit.")
    return Run(tree, spec, data, make_design(spec, data), path=run_dir,
               timings=json.loads(tree.attrs.get("timings", "{}")))
