"""Many refits of one model on Dask, each worker compiling the model once.

``scheduler=None`` starts a ``LocalCluster`` of ``workers`` single-threaded processes;
``tcp://HOST:PORT`` uses a running cluster. Workers keep the compiled model of the last
(spec, data) they saw, so refits that change only shared data (the outcome, the firms'
likelihood weights) cost one compile per worker.
"""

import logging
from collections.abc import Callable, Iterator

from bayescluster.design import make_design
from bayescluster.model import Built, build

_COMPILED: dict = {}  # this process: (spec hash, data hash) -> (built, compiled model)


def compiled(spec, data) -> tuple[Built, object]:
    """This process's built and nutpie-compiled model of ``spec`` on ``data``."""
    from bayescluster.fit import compile_nutpie
    from bayescluster.runs import data_hash

    key = (spec.hash, data_hash(data.frame))
    if key not in _COMPILED:
        built = build(make_design(spec, data))
        _COMPILED.clear()
        _COMPILED[key] = (built, compile_nutpie(built.model, refit=True))
    return _COMPILED[key]


def map_tasks(func: Callable, tasks: list, *, scheduler: str | None = None, workers: int = 2,
              progress=print, label: str = "fits", **kwargs) -> Iterator:
    """Run ``func(task, **kwargs)`` for every task on Dask; yield results as they finish."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(func, tasks, pure=False, **kwargs)
        for done, future in enumerate(as_completed(futures), 1):
            yield future.result()
            progress(f"{label}: {done}/{len(tasks)} done")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
