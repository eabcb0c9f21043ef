"""Dask's LocalCluster as the package starts it."""

import socket

from bayescluster.inference.distributed import map_tasks


def test_local_cluster_starts_when_dasks_default_port_is_taken():
    """Another cluster on the machine holds port 8787: ours still starts, without a word."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:
            pass  # already held by another process: the same situation
        lines = []
        results = sorted(map_tasks(abs, [-2, 3], workers=1, progress=lines.append))
    assert results == [2, 3]
    assert lines == ["fits: 1/2 done", "fits: 2/2 done"]
