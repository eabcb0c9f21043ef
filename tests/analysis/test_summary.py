"""Every parameter block is summarised, the zero part's coefficients included."""

import numpy as np
import pytest

from bayescluster.analysis.summary import parameters, zero_part
from bayescluster.cli import main
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference.fit import fit
from bayescluster.spec import load_spec, parse_spec
from bayescluster.study.firms import load

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def zero_terms(tmp_path_factory):
    text = load_spec("zinb_hier").text.replace("terms = []  # intercept only",
                                               'terms = ["scale", "rd"]  #')
    spec = parse_spec(text)
    run = fit(spec, load(DEFAULT_DATA, spec.roles), chains=2, draws=100, tune=100, seed=3,
              quiet=True)
    path = tmp_path_factory.mktemp("runs") / "zero"
    run.save(path)
    return run, path


def test_zero_part_coefficients_are_summarised(zero_terms):
    run, _ = zero_terms
    table = zero_part(run)
    assert list(table.index) == ["log(scale)", "rd", "intercept"]
    draws = run.posterior["zero_beta"].sel(zero_coef="rd").values.ravel()
    assert table.loc["rd", "mean"] == pytest.approx(draws.mean())
    assert table.loc["rd", "p_gt_0"] == pytest.approx((draws > 0).mean())
    blocks = parameters(run)
    assert set(blocks.index.get_level_values("block")) == {"fixed", "zero", "group"}
    assert np.isfinite(blocks.to_numpy(dtype=float)).all()


def test_summary_verb_prints_the_zero_part(zero_terms, capsys):
    _, path = zero_terms
    assert main(["summary", str(path)]) in (0,)
    out = capsys.readouterr().out
    zero = out[out.index("zero part: coefficients on logit P(zero)"):]
    assert "log(scale)" in zero.splitlines()[2] + zero.splitlines()[3]
    assert "sd_cluster[intercept]" in out and "domain effects" in out
