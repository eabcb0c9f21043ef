"""Many tasks on Dask: a ``LocalCluster`` of single-threaded processes, or a running one.

``scheduler=None`` starts a ``LocalCluster`` of ``workers`` processes, without a dashboard
and with its scheduler's HTTP server on a free port (Dask's default, 8787, may belong to
another cluster on the machine); ``tcp://HOST:PORT`` uses a running cluster. Refits
(:mod:`bayescluster.inference.refit`) keep each worker's compiled model, so a task costs one
compile per worker, not one per task.
"""

import logging
from collections.abc import Callable, Iterator
from typing import Any


def map_tasks(func: Callable, tasks: list, *, scheduler: str | None = None, workers: int = 2,
              progress: Callable[[str], object] = print, label: str = "fits",
              **kwargs: Any) -> Iterator:
    """Run ``func(task, **kwargs)`` for every task on Dask; yield results as they finish.

    Parameters
    ----------
    func : callable
        A picklable function of one task and ``kwargs``.
    tasks : list
        The tasks.
    scheduler : str, optional
        A running scheduler's address; by default a ``LocalCluster`` is started.
    workers : int
        The ``LocalCluster``'s worker processes.
    progress : callable
        Called with a line after every finished task.
    label : str
        What the progress line calls the tasks.
    **kwargs
        Passed to every call of ``func``.

    Yields
    ------
    object
        Each task's result, in the order they finish.
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": ":0"})
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
