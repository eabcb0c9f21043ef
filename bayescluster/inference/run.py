"""Runs: a fit's DataTree with the spec, data and design it came from, and its file.

A run directory holds one netCDF file (``run.nc``) that describes itself. The per-draw,
per-row arrays (log-likelihoods, replicated counts) are stored compressed, as float32 and
the smallest integer type (:func:`stored_loglik`, :func:`stored_counts`), so a run of
thousands of rows stays a fraction of its float64 size; the run in memory holds the same
values, so its checksum is the same before and after a save.

Its attrs hold the spec's TOML, a hash of the data, package versions, sampler settings and
seeds, what the fit decided from the data (``decisions``: each transformed covariate's
centre and scale, each cluster's and domain's centring) and the gate verdict; the group
``firm_data`` holds the validated firm table, so :func:`load` rebuilds spec, data, design
and model, as they were sampled, without pickle.
"""

import hashlib
import json
import platform
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from bayescluster.core.atomic import atomic_path
from bayescluster.core.errors import ConvergenceWarning, RunError
from bayescluster.data.roles import Words
from bayescluster.data.table import FirmData, validate
from bayescluster.inference.diagnostics import gates
from bayescluster.inference.remedies import failed_message
from bayescluster.model.build import Built, build
from bayescluster.model.design import Design, make_design
from bayescluster.model.parameterization import Parameterisation
from bayescluster.spec.parse import Spec, parse_spec

RUN_FILE = "run.nc"
PACKAGES = ("bayescluster", "pymc", "pytensor", "arviz-base", "arviz-stats", "nutpie", "numba",
            "llvmlite", "numpy", "pandas", "xarray")


@dataclass
class Run:
    """A fit: its DataTree and the spec, data and design it came from.

    Attributes
    ----------
    tree : xarray.DataTree
        The draws (``posterior``, ``sample_stats``, ``log_likelihood``,
        ``posterior_predictive``, ``observed_data``, or the prior groups) and ``firm_data``.
    spec, data, design
        What the run was fitted from.
    path : Path or None
        The run directory once saved or loaded.
    timings : dict
        Seconds spent building, compiling, sampling and post-processing.
    """

    tree: xr.DataTree
    spec: Spec
    data: FirmData
    design: Design
    path: object = None
    timings: dict = field(default_factory=dict)

    @property
    def decisions(self) -> dict:
        """What the fit decided from the data (transforms, parameterisation)."""
        return json.loads(self.tree.attrs.get("decisions", "{}"))

    @property
    def parameterisation(self) -> Parameterisation | None:
        """The parameterisation the run was sampled with (None in runs that predate it)."""
        record = self.decisions.get("parameterisation")
        return None if record is None else Parameterisation.from_record(record)

    @property
    def settings(self) -> dict:
        """The sampler settings the run used."""
        return json.loads(self.tree.attrs.get("settings", "{}"))

    @cached_property
    def built(self) -> Built:
        """The PyMC model, rebuilt with the run's recorded parameterisation.

        Returns
        -------
        Built
            The model, its design and evaluator (built once, then cached).
        """
        return build(self.design, self.parameterisation)

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior draws as a Dataset."""
        return self.tree["posterior"].to_dataset()

    @property
    def outcome(self) -> str:
        """The outcome column's name."""
        return self.spec.columns["outcome"]

    @property
    def prior_only(self) -> bool:
        """Whether the run holds prior draws only."""
        return "posterior" not in self.tree.children

    def save(self, out_dir: str | Path, *, force: bool = False) -> Path:
        """Write the run to ``out_dir/run.nc`` (see :func:`~bayescluster.inference.run.save`).

        Parameters
        ----------
        out_dir : str or Path
            The run directory (created if missing).
        force : bool
            Replace a run already there.

        Returns
        -------
        Path
            The file written.
        """
        return save(self, out_dir, force=force)


PER_ROW = ("log_likelihood", "posterior_predictive", "prior_predictive")  # draw x row groups


def stored_loglik(loglik: np.ndarray) -> np.ndarray:
    """Per-draw, per-row log-likelihoods as a run keeps them: float32.

    Seven significant digits: PSIS-LOO, its Pareto k and the LOO comparison read the
    same to the digits a report shows, in a quarter of the space (with compression).

    Parameters
    ----------
    loglik : ndarray
        Log-likelihoods of any shape (chain, draw, row).

    Returns
    -------
    ndarray
        The same values as float32.
    """
    return np.asarray(loglik, dtype=np.float32)


def stored_counts(counts: np.ndarray) -> np.ndarray:
    """Replicated counts as a run keeps them, every value exact.

    In the smallest unsigned integer type that holds them.

    Parameters
    ----------
    counts : ndarray
        Non-negative integer counts of any shape.

    Returns
    -------
    ndarray
        The same values as uint8, uint16, uint32 or uint64.
    """
    counts = np.asarray(counts)
    top = int(counts.max()) if counts.size else 0
    dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                 if top <= np.iinfo(t).max)
    return counts.astype(dtype)


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a firm table as CSV (the run's data checksum).

    Parameters
    ----------
    frame : DataFrame
        A validated firm table (``FirmData.frame``).

    Returns
    -------
    str
        The hex digest of its CSV without the index.
    """
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _versions() -> dict:
    return {p: version(p) for p in PACKAGES}


def machine() -> dict:
    """What a run's exact floating-point results depend on besides seed, data and spec.

    The platform, the CPU model and a hash of its instruction-set flags (numba compiles for
    the host CPU), and the numeric packages' versions. Two runs with equal ``machine()``
    give the same draws; elsewhere they agree within Monte Carlo error.

    Returns
    -------
    dict
        ``platform``, ``cpu``, ``cpu_flags_sha256`` (16 hex digits), ``python`` and
        ``packages`` (name -> version).
    """
    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux
        pass
    cpu, flags = info.get("model name", platform.processor()), info.get("flags", "")
    return {"platform": f"{platform.system()} {platform.machine()}", "cpu": cpu,
            "cpu_flags_sha256": hashlib.sha256(flags.encode()).hexdigest()[:16],
            "python": platform.python_version(), "packages": _versions()}


def stamp(tree: xr.DataTree, spec: Spec, data: FirmData, design: Design, settings: dict,
          timings: dict, decisions: dict) -> None:
    """Write what the run needs to describe and rebuild itself into ``tree``.

    Adds the ``firm_data`` group and the attrs (spec, data hash, versions, settings,
    timings, decisions, gates and status), then seals the run (``content_sha256``).

    Parameters
    ----------
    tree : xarray.DataTree
        The fit's draws, changed in place.
    spec : Spec
        The model fitted.
    data : FirmData
        The validated table fitted to.
    design : Design
        The design sampled (its rows used and dropped).
    settings : dict
        The sampler settings.
    timings : dict
        Seconds per step (stored rounded to milliseconds).
    decisions : dict
        What the fit decided from the data (JSON-serialisable).
    """
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
        "decisions": json.dumps(decisions),
        "n_firms_used": int(design.n_firms),
        "n_dropped": int(design.n_dropped),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    if "posterior" in tree.children:
        table = gates(tree)
        tree.attrs["gates"] = table.to_json(orient="records")
        tree.attrs["status"] = "passed" if table["passed"].all() else "failed"
    else:
        tree.attrs["status"] = "prior"
    tree.attrs["content_sha256"] = content_hash(tree)


def record_decision(tree: xr.DataTree, key: str, value: object) -> None:
    """Add ``key`` to what the run decided (``decisions``) and seal the run again.

    Parameters
    ----------
    tree : xarray.DataTree
        A stamped run's tree, changed in place.
    key : str
        The decision's name (replaced if present).
    value : object
        The decision, JSON-serialisable.
    """
    decisions = json.loads(tree.attrs.get("decisions", "{}"))
    decisions[key] = value
    tree.attrs["decisions"] = json.dumps(decisions)
    tree.attrs["content_sha256"] = content_hash(tree)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else str(value)


SEALED_ATTRS = ("bayescluster_spec", "spec_name", "family", "data_sha256", "settings",
                "decisions", "gates", "status", "n_firms_used", "n_dropped")


def content_hash(tree: xr.DataTree) -> str:
    """SHA-256 of what a run says.

    Every group's variables and labels (the firm table has its own hash), the stored spec,
    settings, decisions and gate verdict.

    Parameters
    ----------
    tree : xarray.DataTree
        A run's tree.

    Returns
    -------
    str
        The hex digest (the run's ``content_sha256``).
    """
    digest = hashlib.sha256()
    for key in SEALED_ATTRS:
        digest.update(f"{key}={tree.attrs.get(key, '')}\x1e".encode())
    for group in sorted(tree.children):
        if group == "firm_data":
            continue
        ds = tree[group].to_dataset()
        for name in sorted(map(str, ds.variables)):
            values = np.asarray(ds[name].values)
            digest.update(f"{group}/{name}:{values.shape}:".encode())
            numeric = values.dtype.kind in "biufc"
            if numeric and not (values.dtype.kind == "f" and np.isnan(values).all()):
                digest.update(np.ascontiguousarray(values, dtype=float).tobytes())
            else:  # labels and messages; None and NaN (missing text after a save) alike
                digest.update("\x1f".join(_text(v) for v in values.ravel()).encode())
    return digest.hexdigest()


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


def save(run: Run, out_dir: str | Path, force: bool = False) -> Path:
    """Write ``run`` to ``out_dir/run.nc`` atomically; refuse to overwrite without ``force``.

    Parameters
    ----------
    run : Run
        The run; its ``path`` becomes ``out_dir``.
    out_dir : str or Path
        The run directory (created if missing).
    force : bool
        Replace a run already there.

    Returns
    -------
    Path
        The file written, ``out_dir/run.nc``.

    Raises
    ------
    RunError
        When ``out_dir`` holds a run and ``force`` is not given.
    """
    out_dir = Path(out_dir)
    target = out_dir / RUN_FILE
    if target.exists() and not force:
        raise RunError(f"{out_dir} already holds a run. Fix: choose another --out or pass "
                       "--force to overwrite it.")
    compressed = {"zlib": True, "complevel": 4}
    encoding = {f"/{group}": {name: compressed for name in run.tree[group].data_vars}
                for group in PER_ROW if group in run.tree.children}
    try:
        with atomic_path(target, replace=force) as tmp:
            run.tree.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    except FileExistsError:
        raise RunError(f"{out_dir} was given a run by another writer while this one was "
                       "sampled; that run is kept whole. Fix: choose another --out, or pass "
                       "--force to replace it.") from None
    run.path = out_dir
    return target


def load(run_dir: str | Path, *, verify: bool = True) -> Run:
    """Rebuild a :class:`~bayescluster.inference.run.Run` from its directory.

    The spec and the data come with it.

    ``verify`` checks the run's checksum of its draws, spec and verdict, and refuses a run
    modified since it was written. A run that failed its convergence gates loads with a
    :class:`~bayescluster.core.errors.ConvergenceWarning` (one line on the command line).

    Parameters
    ----------
    run_dir : str or Path
        A directory written by :func:`~bayescluster.inference.run.save` (``bayescluster fit
        --out``).
    verify : bool
        Check the run's checksum.

    Returns
    -------
    Run
        The run, its spec, data and design rebuilt as they were sampled.

    Raises
    ------
    RunError
        When the directory holds no run, the file cannot be read or is not a run, or its
        checksum or data hash does not match.

    Examples
    --------
    >>> path = run.save(tmp / "run")
    >>> bc.load_run(tmp / "run").spec.family
    'negbin'
    """
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.exists():
        raise RunError(f"{run_dir} holds no run ({RUN_FILE} not found). Fix: give a directory "
                       "written by `bayescluster fit --out`.")
    try:
        with xr.open_datatree(path, engine="netcdf4") as handle:
            tree = handle.load()
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise RunError(f"{path} cannot be read as a run ({type(error).__name__}: {error}); "
                       "it is truncated or not a netCDF file. Fix: refit into a new "
                       "directory.") from None
    missing = [k for k in ("bayescluster_spec", "data_sha256") if k not in tree.attrs]
    if missing or "firm_data" not in tree.children:
        raise RunError(f"{path} is a netCDF file but not a bayescluster run (it lacks "
                       f"{', '.join(missing) or 'the firm_data group'}). Fix: give a "
                       "directory written by `bayescluster fit --out`.")
    sealed = tree.attrs.get("content_sha256")
    if verify and sealed is not None and content_hash(tree) != sealed:
        raise RunError(f"{path} was modified after it was written: its draws, spec or verdict "
                       "no longer match their checksum. Fix: refit, or pass --no-verify "
                       "(verify=False) to read it anyway.")
    spec = parse_spec(tree.attrs["bayescluster_spec"], f"{run_dir}/spec")
    frame = _dataset_to_frame(tree["firm_data"].to_dataset())
    decisions = json.loads(tree.attrs.get("decisions", "{}"))
    words = Words(**decisions["words"]) if "words" in decisions else None
    with warnings.catch_warnings():  # the fit said it once (small groups)
        warnings.simplefilter("ignore", UserWarning)
        data = validate(frame, spec.roles, words=words)
    if data_hash(data.frame) != tree.attrs["data_sha256"]:
        raise RunError(f"{path}: the stored firm table does not match its hash; the file is "
                       "damaged. Fix: refit.")
    run = Run(tree, spec, data, make_design(spec, data, levels=decisions.get("levels")),
              path=run_dir,
              timings=json.loads(tree.attrs.get("timings", "{}")))
    if tree.attrs.get("status") == "failed":
        warnings.warn(ConvergenceWarning(f"{run_dir}: {failed_message(run)}"), stacklevel=2)
    return run
