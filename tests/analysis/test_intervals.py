"""The one source of intervals, tail probabilities and ranks, against numpy."""

import numpy as np
import pandas as pd
import pytest

from bayescluster.analysis.intervals import (
    grouped_intervals,
    interval,
    intervals,
    ranks,
    summarise,
)
from bayescluster.core.errors import BayesclusterError

DRAWS = np.random.default_rng(7).gamma(2.0, 1.5, size=(4000, 3)) - 2.0


@pytest.mark.parametrize("ci_prob", [0.5, 0.9, 0.95])
def test_intervals_are_numpy_equal_tailed_quantiles(ci_prob):
    tail = (1 - ci_prob) / 2
    expected = np.quantile(DRAWS, [tail, 1 - tail], axis=0).T
    np.testing.assert_allclose(intervals(DRAWS, ci_prob=ci_prob), expected, rtol=1e-12)
    np.testing.assert_allclose(interval(DRAWS[:, 1], ci_prob=ci_prob), expected[1],
                               rtol=1e-12)
    frame = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 4000), "v": DRAWS.T.ravel()})
    lower, upper = grouped_intervals(frame.groupby("g")["v"], ci_prob=ci_prob)
    np.testing.assert_allclose(np.c_[lower, upper], expected, rtol=1e-12)


@pytest.mark.parametrize("ci_prob", [0.5, 0.9, 0.95])
def test_a_counts_interval_is_made_of_drawn_counts(ci_prob):
    """Counts' bounds are the draws' empirical quantiles (numpy's inverted CDF), so whole
    numbers, where linear interpolation gives e.g. 0.95 between 0 and 1."""
    counts = np.random.default_rng(3).negative_binomial(2, 0.4, size=(999, 4))
    tail = (1 - ci_prob) / 2
    expected = np.quantile(counts, [tail, 1 - tail], axis=0, method="inverted_cdf").T
    got = intervals(counts, ci_prob=ci_prob, discrete=True)
    np.testing.assert_array_equal(got, expected)
    assert np.all(got == np.round(got))


def test_summary_moments_and_tail_probability():
    stats = summarise(DRAWS[:, 0], ci_prob=0.9)
    assert stats["mean"] == pytest.approx(DRAWS[:, 0].mean())
    assert stats["sd"] == pytest.approx(DRAWS[:, 0].std(ddof=1))
    assert stats["p_gt_0"] == pytest.approx((DRAWS[:, 0] > 0).mean())


def test_ranks_count_from_the_largest():
    samples = np.array([[0.1, 3.0, -1.0], [5.0, 4.0, 6.0]])
    np.testing.assert_array_equal(ranks(samples), [[2, 1, 3], [2, 3, 1]])


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.9"])
def test_interval_probability_outside_zero_one_is_refused(bad):
    with pytest.raises(BayesclusterError, match=r"strictly between 0 and 1 .*Fix"):
        interval(DRAWS[:, 0], ci_prob=bad)
