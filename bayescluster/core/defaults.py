"""Every default a user meets more than once, defined here and imported where it is used.

Gate thresholds, the Pareto-k threshold, the interval probability and the sampler
settings. The default family is the spec layer's
(:data:`bayescluster.spec.families.DEFAULT_FAMILY`), where families are declared.
"""

CI_PROB = 0.9  # every interval's probability unless asked otherwise
PARETO_K = 0.7  # above it PSIS-LOO cannot estimate a row's held-out density
MAX_RHAT = 1.01
MIN_ESS = 400  # bulk and tail
MAX_DIVERGENCES = 0
MIN_BFMI = 0.3
GATES = (
    ("max R-hat", "<=", MAX_RHAT),
    ("min bulk ESS", ">=", MIN_ESS),
    ("min tail ESS", ">=", MIN_ESS),
    ("divergences", "<=", MAX_DIVERGENCES),
    ("min E-BFMI", ">=", MIN_BFMI),
)
GATES_TEXT = (f"max R-hat <= {MAX_RHAT}, min bulk and tail ESS >= {MIN_ESS}, no divergent "
              f"transitions, E-BFMI >= {MIN_BFMI} in every chain")
DEFAULT_SAMPLING = {"draws": 1000, "tune": 1000, "target_accept": 0.9}
