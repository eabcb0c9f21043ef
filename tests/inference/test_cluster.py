"""Refits on a real Dask cluster over TLS, as a user starts one: `dask scheduler` and two
`dask worker` processes with certificates made for the test. Results equal a local run's
with one worker; a client without the cluster's certificate is refused."""

import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayescluster.analysis import loco, sbc
from bayescluster.core.errors import BayesclusterError
from bayescluster.inference.distributed import (
    UnencryptedSchedulerWarning,
    check_scheduler,
    map_tasks,
    security_of,
)
from bayescluster.spec.parse import load_spec
from bayescluster.study.firms import validate
from bayescluster.study.simulate import simulate

DASK = str(Path(sys.executable).parent / "dask")
KEEP = ["kanto", "kanto-bio", "kansai-it", "tohoku-energy"]


def _authority(folder: Path, name: str) -> None:
    """A certificate authority ``name`` and a certificate it issues (``name``-node) for the
    cluster's processes and its client alike."""
    import trustme

    ca = trustme.CA(organization_name=name)
    node = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(folder / f"{name}-ca.pem"))
    node.cert_chain_pems[0].write_to_path(str(folder / f"{name}-node.pem"))
    node.private_key_pem.write_to_path(str(folder / f"{name}-node.key"))


def _tls(folder: Path, name: str = "cluster") -> list[str]:
    return ["--tls-ca-file", str(folder / f"{name}-ca.pem"),
            "--tls-cert", str(folder / f"{name}-node.pem"),
            "--tls-key", str(folder / f"{name}-node.key")]


def _files(folder: Path, name: str = "cluster") -> dict:
    return {"ca_file": str(folder / f"{name}-ca.pem"), "cert": str(folder / f"{name}-node.pem"),
            "key": str(folder / f"{name}-node.key")}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A TLS scheduler and two single-threaded workers, all on the loopback address."""
    folder = tmp_path_factory.mktemp("tls")
    _authority(folder, "cluster")
    _authority(folder, "rogue")
    info = folder / "scheduler.json"
    logs = [open(folder / f"{n}.log", "w") for n in ("scheduler", "w1", "w2")]  # noqa: SIM115
    procs = [subprocess.Popen(
        [DASK, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info), *_tls(folder)],
        stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tls://127.0.0.1:")
        for log in logs[1:]:
            procs.append(subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                 "--dashboard-address", "127.0.0.1:0", *_tls(folder)],
                stdout=log, stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, security=security_of(_files(folder)), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, folder
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def four_clusters():
    sim = simulate(400, seed=8).data
    return load_spec("negbin_hier"), validate(sim[sim["cluster"].isin(KEEP)])


def test_a_client_without_the_clusters_certificate_is_refused(cluster):
    from distributed import Client

    address, folder = cluster
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    # TLS that trusts the cluster's authority but shows no certificate of its own
    context = ssl.create_default_context(cafile=str(folder / "cluster-ca.pem"))
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            pytest.raises((ssl.SSLError, ConnectionError)):
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"hello")
            assert tls.recv(1) == b""  # the server hangs up if the error comes late
            raise ConnectionError("closed by the scheduler")
    with pytest.raises((OSError, TimeoutError)):  # a certificate from another authority
        Client(address, security=security_of(_files(folder, "rogue")), timeout="5s")
    with pytest.raises((OSError, TimeoutError)):  # plain TCP to the TLS port
        Client(address.replace("tls://", "tcp://"), timeout="5s")
    # through the package: the same refusals, as exit-2 errors naming the fix
    with pytest.raises(BayesclusterError, match="no certificate was given"):
        list(map_tasks(abs, [1], scheduler=address))
    with pytest.raises(BayesclusterError, match="refused or dropped the connection"):
        list(map_tasks(abs, [1], scheduler=address, security=_files(folder, "rogue")))
    with pytest.raises(BayesclusterError, match="if the scheduler uses TLS, give tls://"):
        list(map_tasks(abs, [1], scheduler=address.replace("tls://", "tcp://")))
    assert list(map_tasks(abs, [-1], scheduler=address, security=_files(folder),
                          progress=lambda _: None)) == [1]


@pytest.mark.sampling
def test_sbc_and_loco_on_the_tls_cluster_equal_a_local_run(cluster, four_clusters,
                                                            sampler_seed, within):
    """Two workers on the cluster and one local worker: the same ranks and scores, since
    each task's seed comes from its identity, not from where or when it ran. The held-out
    scores are worse than the in-sample ones by the optimism the latter carry."""
    address, folder = cluster
    spec, data = four_clusters
    quiet = {"progress": lambda _: None}
    small = {"chains": 1, "draws": 60, "tune": 80, "seed": 5, **quiet}
    remote = sbc.run(spec, data, sims=4, thin=2, scheduler=address, security=_files(folder),
                     **small)
    local = sbc.run(spec, data, sims=4, thin=2, workers=1, **small)
    assert set(remote["sim"]) == set(range(4)) and len(remote) >= 4 * 5
    pd.testing.assert_frame_equal(remote, local)

    settings = {"chains": 2, "draws": 150, "tune": 200, "seed": sampler_seed(2), **quiet}
    remote = loco.run(spec, data, scheduler=address, security=_files(folder), **settings)
    local = loco.run(spec, data, workers=1, **settings)
    pd.testing.assert_frame_equal(remote, local)
    assert sorted(remote["cluster"]) == sorted(KEEP)
    assert remote["n"].sum() == len(data.frame)
    assert np.isfinite(remote[["elpd_loco", "elpd_in_sample"]].to_numpy()).all()
    assert within("elpd in-sample - held out", remote["elpd_in_sample"].sum()
                  - remote["elpd_loco"].sum(), lower=0)
    assert (remote["elpd_loco"] / remote["n"]).between(-6, 0).all()


def test_scheduler_addresses_and_tls_options_are_checked_before_any_work(tmp_path):
    for bad in ("127.0.0.1:8786", "ucx://host:1", "tcp://host", "tls://:8786",
                "tls://127.0.0.1:99999"):
        with pytest.raises(BayesclusterError, match="not a Dask scheduler address"):
            check_scheduler(bad)
    (tmp_path / "ca.pem").write_text("x")
    with pytest.raises(BayesclusterError, match=r"--tls-cert \(security\['cert'\]\) "
                                                "'nowhere.pem': no such file"):
        security_of({"ca_file": str(tmp_path / "ca.pem"), "cert": "nowhere.pem", "key": None})
    with pytest.raises(BayesclusterError, match="missing: --tls-cert"):
        security_of({"ca_file": str(tmp_path / "ca.pem"), "cert": None, "key": None})
    with pytest.raises(BayesclusterError, match="unknown key"):
        security_of({"ca": "x"})
    assert security_of({"ca_file": None, "cert": None, "key": None}) is None
    with pytest.raises(BayesclusterError, match="plain TCP, but TLS files"):
        check_scheduler("tcp://10.0.0.5:8786", object())
    with pytest.raises(BayesclusterError, match="without --scheduler"):
        check_scheduler(None, object())
    check_scheduler("tcp://127.0.0.1:8786")  # this machine: no warning (filterwarnings=error)
    with pytest.warns(UnencryptedSchedulerWarning, match="anyone who can reach it"):
        check_scheduler("tcp://10.0.0.5:8786")
    check_scheduler("tcp://10.0.0.5:8786")  # once per address and process


def test_tls_files_that_cannot_work_are_named(tmp_path, cluster):
    _, folder = cluster
    good = _files(folder)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(BayesclusterError, match=r"--tls-ca-file \(security\['ca_file'\]\) "
                                                r".*junk.pem' holds no PEM certificate"):
        security_of({**good, "ca_file": str(tmp_path / "junk.pem")})
    with pytest.raises(BayesclusterError, match="not a PEM certificate and its matching "
                                                "private key.*swapped"):
        security_of({**good, "cert": good["key"], "key": good["cert"]})
    with pytest.raises(BayesclusterError, match="not a PEM certificate and its matching"):
        security_of({**good, "key": _files(folder, "rogue")["key"]})
    with pytest.raises(BayesclusterError, match="a directory"):
        security_of({**good, "ca_file": str(tmp_path)})


def test_an_address_nothing_listens_at_or_a_scheduler_without_workers(tmp_path,
                                                                     monkeypatch, cluster):
    """Refused at once, not after Dask's retries; a lone scheduler after the wait."""
    import socket as sockets

    from bayescluster.inference import distributed

    with sockets.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(BayesclusterError, match="nothing is listening at"):
        list(map_tasks(abs, [1], scheduler=f"tcp://127.0.0.1:{port}"))
    assert time.monotonic() - started < 5
    _, folder = cluster
    info = tmp_path / "lone.json"
    with open(tmp_path / "lone.log", "w") as log:
        lone = subprocess.Popen(
            [DASK, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(info),
             *_tls(folder)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        monkeypatch.setattr(distributed, "WORKERS_TIMEOUT_S", 3)
        with pytest.raises(BayesclusterError, match="has had no worker for 3 s"):
            list(map_tasks(abs, [1], scheduler=address, security=_files(folder)))
    finally:
        lone.terminate()
        lone.wait(timeout=20)


def test_the_command_line_names_a_missing_certificate(tmp_path, capsys):
    from bayescluster.cli import main

    (tmp_path / "ca.pem").write_text("x")
    code = main(["sbc", "--sims", "2", "--scheduler", "tls://127.0.0.1:1", "--tls-ca-file",
                 str(tmp_path / "ca.pem"), "--tls-cert", str(tmp_path / "me.pem"), "--out",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "--tls-cert" in err and "no such file" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
    for argv, said in ((["--scheduler", "tcp://127.0.0.1:1", "--workers", "3"],
                        "--workers 3 starts a local cluster"),
                       (["--scheduler", "tcp://127.0.0.1:1"], "nothing is listening at")):
        code = main(["sbc", "--sims", "2", *argv, "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == 2 and said in err, err
    code = main(["loo", str(tmp_path), "--workers", "2"])
    assert code == 2 and "only tell(s) where refits run" in capsys.readouterr().err
