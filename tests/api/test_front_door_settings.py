"""The front door checks its sampling settings before any work, as the command line does."""

import pandas as pd
import pytest

import bayescluster as bc

FRAME = pd.DataFrame({"y": [0, 1, 2, 3, 0, 1], "x": [0.1, 0.5, 0.9, 1.3, 0.2, 0.4]})


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("chains", 0, r"chains must be a whole number from 1 to 64 \(got 0\)"),
    ("draws", -5, r"draws must be a whole number from 1 to 1,000,000 \(got -5\)"),
    ("tune", 0, r"tune must be a whole number .*\(got 0\)"),
    ("seed", "abc", r"seed must be a whole number .*\(got 'abc'\)"),
    ("target_accept", 1.5, r"target_accept must be a number in \[0.5, 1\) \(got 1.5\)"),
])
def test_a_bad_setting_is_an_error_naming_it(setting, value, message):
    with pytest.raises(bc.BayesclusterError, match=message):
        bc.fit("y ~ x", FRAME, family="poisson", quiet=True, **{setting: value})
