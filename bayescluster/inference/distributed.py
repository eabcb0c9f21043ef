"""Many tasks on Dask: a ``LocalCluster`` of single-threaded processes, or a running one.

``scheduler=None`` starts a ``LocalCluster`` of ``workers`` processes on this machine with
every socket, HTTP servers included, on the loopback address (nothing is reachable from
another machine). ``tls://HOST:PORT`` uses a running cluster over TLS, with the client
certificate given as ``security`` or read from Dask's configuration
(``distributed.comm.tls.*``) as Dask reads it; ``tcp://HOST:PORT`` uses one without
encryption or authentication, with a warning unless it is on this machine.

Each task carries its own seed, derived from the study's seed and the task's identity (a
simulation's number, a cluster's position), so results do not depend on how many workers
there are, which worker ran a task, or the order tasks finish. Refits
(:mod:`bayescluster.inference.refit`) keep each worker's compiled model, so a task costs one
compile per worker, not one per task.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bayescluster.core.errors import BayesclusterError

LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 10
WORKERS_TIMEOUT_S = 60  # a running scheduler without a worker: refused after this long
SCHEMES = ("tls", "tcp")
TLS_KEYS = ("ca_file", "cert", "key")  # the command line's --tls-ca-file, --tls-cert, --tls-key
_WARNED: set[str] = set()  # plain-TCP schedulers already warned about in this process


class UnencryptedSchedulerWarning(UserWarning):
    """A ``tcp://`` scheduler beyond this machine: anyone who reaches it can run code."""


def _host(address: str) -> str:
    rest = address.split("://", 1)[1]
    if rest.startswith("["):
        return rest[1:rest.index("]")]
    return rest.rsplit(":", 1)[0]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
        except OSError:
            return False


def security_of(security: object | Mapping[str, str | None] | None) -> object | None:
    """A ``distributed.Security`` from the command line's files, or ``security`` as given.

    Parameters
    ----------
    security : distributed.Security, mapping or None
        A ``Security`` (used as it is); a mapping with ``ca_file``, ``cert`` and ``key``
        (the key may be inside the certificate's file); or None (Dask's configuration).

    Returns
    -------
    distributed.Security or None
        None when ``security`` is None or names no file.

    Raises
    ------
    BayesclusterError
        When a key is unknown, a file is missing or unreadable, or the CA file or the
        certificate is left out.
    """
    if security is None or not isinstance(security, Mapping):
        return security
    unknown = sorted(set(security) - set(TLS_KEYS))
    if unknown:
        raise BayesclusterError(f"security has unknown key(s) {unknown}; the keys are "
                                f"{', '.join(TLS_KEYS)} (paths of PEM files).")
    given = {k: v for k, v in security.items() if v is not None}
    if not given:
        return None
    missing = [k for k in ("ca_file", "cert") if k not in given]
    if missing:
        raise BayesclusterError("TLS needs a CA file and a certificate together (and a key "
                                "unless it is in the certificate's file); missing: "
                                f"{', '.join(_option(k) for k in missing)}. Fix: give "
                                f"{' and '.join(_option(k) for k in missing)}.")
    check_tls_files({_option(k): v for k, v in given.items()}, given["ca_file"],
                    given["cert"], given.get("key"))
    from distributed import Security

    return Security(tls_ca_file=given["ca_file"], tls_client_cert=given["cert"],
                    tls_client_key=given.get("key"), require_encryption=True)


def _option(key: str) -> str:
    """A TLS key by the command line's option and the Python mapping's key."""
    return f"--tls-{key.replace('_', '-')} (security[{key!r}])"


def check_tls_files(named: dict[str, str], ca_file: str, cert: str, key: str | None) -> None:
    """Refuse TLS files that are missing, unreadable, not PEM, or a key that does not match.

    Parameters
    ----------
    named : dict of str to str
        How each file was given (an option or a configuration key) -> its path.
    ca_file : str
        The certificate authority's file.
    cert : str
        The client's certificate.
    key : str or None
        Its private key (None: in the certificate's file).

    Raises
    ------
    BayesclusterError
        Naming the option or key, the path and the fix.
    """
    import ssl

    for how, value in named.items():
        path = Path(value)
        what = "a directory" if path.is_dir() else "no such file"
        if not path.is_file():
            raise BayesclusterError(f"{how} {str(value)!r}: {what}. Fix: give the path of the "
                                    "PEM file your cluster's administrator issued.")
        try:
            path.read_bytes()
        except OSError as problem:
            raise BayesclusterError(f"{how} {str(value)!r} cannot be read "
                                    f"({problem.strerror}). Fix: check its permissions.") \
                from None
    by_path = {v: k for k, v in named.items()}
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except ssl.SSLError as problem:
        raise BayesclusterError(f"{by_path[ca_file]} {ca_file!r} holds no PEM certificate "
                                f"authority ({problem.reason or problem}). Fix: give the CA "
                                "certificate (ca.pem), not a key or another file.") from None
    try:
        context.load_cert_chain(cert, keyfile=key)
    except ssl.SSLError as problem:
        if key is None:
            raise BayesclusterError(f"{by_path[cert]} {cert!r} has no private key in its file, "
                                    "and no key file was given. Fix: add --tls-key KEY.pem "
                                    "(security['key']).") from None
        shown = f"{by_path[cert]} {cert!r}" + (f" with {by_path[key]} {key!r}" if key else "")
        raise BayesclusterError(f"{shown}: not a PEM certificate and its matching private key "
                                f"({problem.reason or problem}). Fix: give this client's "
                                "certificate and its own key (the key is needed unless it "
                                "is in the certificate's file; are the two swapped?).") \
            from None


def check_scheduler(scheduler: str | None, security: object = None) -> None:
    """Refuse a scheduler address or TLS setting that cannot work, before any work starts.

    Parameters
    ----------
    scheduler : str or None
        ``tls://HOST:PORT``, ``tcp://HOST:PORT`` or None (a local cluster).
    security : distributed.Security or None
        As returned by :func:`security_of`.

    Raises
    ------
    BayesclusterError
        Naming the address or option and the fix.
    """
    if scheduler is None:
        if security is not None:
            raise BayesclusterError("TLS files were given without --scheduler; the local "
                                    "cluster listens on this machine only and needs none. "
                                    "Fix: add --scheduler tls://HOST:PORT, or drop the TLS "
                                    "options.")
        return
    scheme, sep, rest = scheduler.partition("://")
    port = rest.rsplit(":", 1)[-1] if ":" in rest else ""
    if not sep or scheme not in SCHEMES or not port.isdigit() or not _host(scheduler) \
            or not 0 < int(port) < 65536:
        raise BayesclusterError(f"--scheduler {scheduler!r} is not a Dask scheduler address. "
                                "Fix: give tls://HOST:PORT (a cluster with certificates) or "
                                "tcp://HOST:PORT, as `dask scheduler` prints it.")
    if scheme == "tcp" and security is not None:
        raise BayesclusterError(f"--scheduler {scheduler!r} is plain TCP, but TLS files were "
                                "given; they would be ignored. Fix: use tls://HOST:PORT, or "
                                "drop the TLS options.")
    if scheme == "tls" and security is None:
        from distributed import Security

        configured = Security()
        if not (configured.tls_ca_file and configured.tls_client_cert):
            raise BayesclusterError(f"--scheduler {scheduler!r} uses TLS but no certificate "
                                    "was given. Fix: add --tls-ca-file CA.pem --tls-cert "
                                    "CERT.pem --tls-key KEY.pem, or set Dask's "
                                    "distributed.comm.tls.ca-file and "
                                    "distributed.comm.tls.client.cert/key.")
        config = "Dask's configuration distributed.comm.tls."
        named = {f"{config}ca-file": configured.tls_ca_file,
                 f"{config}client.cert": configured.tls_client_cert}
        if configured.tls_client_key:
            named[f"{config}client.key"] = configured.tls_client_key
        check_tls_files(named, configured.tls_ca_file, configured.tls_client_cert,
                        configured.tls_client_key)
    if scheme == "tcp" and not _is_loopback(_host(scheduler)) and scheduler not in _WARNED:
        _WARNED.add(scheduler)
        warnings.warn(f"scheduler {scheduler} is plain TCP beyond this machine: Dask has no "
                      "authentication there, so anyone who can reach it can run code on its "
                      "workers. Use tls:// with certificates.", UnencryptedSchedulerWarning,
                      stacklevel=3)


def probe(scheduler: str) -> None:
    """Refuse at once an address where nothing listens (Dask would retry until its timeout).

    Parameters
    ----------
    scheduler : str
        A checked ``tls://`` or ``tcp://`` address (:func:`check_scheduler`).

    Raises
    ------
    BayesclusterError
        When the connection is refused, fails or times out.
    """
    host, port = _host(scheduler), int(scheduler.rsplit(":", 1)[1])
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except TimeoutError:
        raise BayesclusterError(f"the Dask scheduler at {scheduler} did not answer within "
                                f"{CONNECT_TIMEOUT_S} s. Fix: check the host and port, and "
                                "that a firewall lets this machine reach it.") from None
    except OSError as problem:
        reason = problem.strerror or str(problem)
        raise BayesclusterError(f"nothing is listening at {scheduler} ({reason}). Fix: start "
                                "`dask scheduler` there, or give the address it printed.") \
            from None


def _local_cluster(workers: int):
    from dask.distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                        dashboard_address=f"{LOOPBACK}:0",
                        worker_dashboard_address=f"{LOOPBACK}:0",
                        silence_logs=logging.ERROR)


def _client(scheduler: str, security: object):
    from dask.distributed import Client

    try:
        client = Client(scheduler, security=security, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as problem:
        hint = (" A plain tcp:// client was cut off: if the scheduler uses TLS, give "
                "tls:// and the certificates." if scheduler.startswith("tcp://") else "")
        raise BayesclusterError(f"the Dask scheduler at {scheduler} refused or dropped the "
                                f"connection ({str(problem).splitlines()[0][:200]}).{hint} "
                                "Fix: check that the address, port and certificates are the "
                                "cluster's (a certificate signed by another authority is "
                                "refused).") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        client.close()
        raise BayesclusterError(f"the Dask scheduler at {scheduler} has had no worker for "
                                f"{WORKERS_TIMEOUT_S} s. Fix: start workers, e.g. `dask worker "
                                f"{scheduler} --nthreads 1` with the same TLS options, in "
                                "an environment with this package installed.") from None
    return client


def map_tasks(func: Callable, tasks: list, *, scheduler: str | None = None, workers: int = 2,
              security: object = None, progress: Callable[[str], object] = print,
              label: str = "fits", **kwargs: Any) -> Iterator:
    """Run ``func(task, **kwargs)`` for every task on Dask; yield results as they finish.

    Parameters
    ----------
    func : callable
        A picklable function of one task and ``kwargs``; each task carries its own seed.
    tasks : list
        The tasks.
    scheduler : str, optional
        A running scheduler's address (``tls://`` or ``tcp://``); by default a
        ``LocalCluster`` on the loopback address is started.
    workers : int
        The ``LocalCluster``'s worker processes.
    security : distributed.Security or mapping, optional
        The client's TLS files for a ``tls://`` scheduler (see :func:`security_of`);
        None reads Dask's configuration.
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

    Raises
    ------
    BayesclusterError
        When the scheduler's address or TLS setting cannot work, or it cannot be reached.
    """
    from dask.distributed import Client, as_completed

    security = security_of(security)
    check_scheduler(scheduler, security)
    cluster = None
    if scheduler is None:
        cluster = _local_cluster(workers)
        client = Client(cluster)
    else:
        probe(scheduler)
        client = _client(scheduler, security)
    try:
        futures = client.map(func, tasks, pure=False, **kwargs)
        for done, future in enumerate(as_completed(futures), 1):
            yield future.result()
            progress(f"{label}: {done}/{len(tasks)} done")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
