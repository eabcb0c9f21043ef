r"""How the hierarchy is parameterised: which clusters are centred, how far the domains.

Under ``parameterization = "auto"`` a cluster's effects are sampled centred where the
cluster's own data say more about them than the prior (and the typical cluster does too),
non-centred elsewhere (:func:`centred_clusters`); the domain deviations are partially
centred by :math:`w_e = r_e/(1 + r_e)` at the current domain SD (:func:`domain_centring`).
The fit decides once (:func:`choose`) and records the decision in the run
(:class:`Parameterisation`), so a saved run is rebuilt, and reported, as it was sampled.
The measurements behind the rules are in ``reports/parameterisation.md``.
"""

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescluster.model.design import Design, varying_matrix
from bayescluster.model.families import LIKELIHOODS
from bayescluster.model.priors import prior_dist
from bayescluster.model.terms import column_matrix

CENTRE_ABOVE = 1.0  # a cluster's data-to-prior information ratio
POOLED_ABOVE = 1.5  # the median cluster's


def _fisher(design: Design, group: np.ndarray, n_group: int, slopes: bool) -> np.ndarray:
    r"""(group, effect) Fisher information about each varying effect.

    :math:`I_{ge} = \hat\mu_g^2/\mathrm{Var}(\hat\mu_g) \sum_{i \in g} z_{ie}^2`: the
    base distribution's information in :math:`\log\mu` of one firm at the group's mean
    count :math:`\hat\mu_g` (its parameter a moment estimate from the whole table; the
    base's ``information``, e.g. NB2's :math:`\hat\mu_g/(1 + \hat\mu_g/\hat n)`) times the
    firms' squared values of the effect (1 for the intercept; the intercept's alone unless
    ``slopes``).
    """
    y = design.y.astype(float)
    base = LIKELIHOODS[design.spec.family].base
    n = np.bincount(group, minlength=n_group)
    mu = np.bincount(group, weights=y, minlength=n_group) / np.maximum(n, 1)
    z = np.ones((design.n_firms, 1))
    if slopes:
        X = column_matrix(design.fixed, np.nan_to_num(design.values), design.n_firms)
        z = varying_matrix(design, X, design.n_firms)
    z2 = np.stack([np.bincount(group, weights=z[:, e] ** 2, minlength=n_group)
                   for e in range(z.shape[1])], axis=1)
    return base.information(mu, y.mean(), y.var())[:, None] * z2


def _prior_mean(design: Design, name: str) -> float:
    return float(np.mean(pm.draw(prior_dist(design.spec.priors[name]), draws=4000,
                                 random_seed=0)))


def information_ratio(design: Design) -> np.ndarray:
    r"""Each cluster's information about its intercept, relative to the prior's.

    :math:`r_c = n_c \hat\mu_c / (1 + \hat\mu_c/\hat\alpha)\cdot\bar\sigma^2`: the
    negative-binomial Fisher information of :math:`n_c` firms with cluster mean
    :math:`\hat\mu_c` (:func:`_fisher`) times the prior mean of the cluster SD squared.
    :math:`r_c > 1`: the data say more about the cluster's intercept than the prior does.

    Parameters
    ----------
    design : Design
        The model's design (its firms' counts and clusters, and the cluster SD's prior).

    Returns
    -------
    ndarray
        (cluster,) :math:`r_c`.
    """
    fisher = _fisher(design, design.cluster_index, len(design.cluster_labels), slopes=False)
    return fisher[:, 0] * _prior_mean(design, "sd_cluster") ** 2


def centred_clusters(design: Design) -> np.ndarray:
    r"""Which clusters get the centred parameterisation (a bool per cluster).

    ``noncentered`` and ``centered`` choose for every cluster; ``auto`` centres cluster
    :math:`c` iff :math:`r_c >` ``CENTRE_ABOVE`` (1) and the median :math:`r` >
    ``POOLED_ABOVE`` (1.5), :math:`r` from :func:`information_ratio`. Data-rich clusters
    need the centred form (the non-centred one puts a ridge between the cluster SD and the
    standardised deviation), but only once the typical cluster pins the cluster SD away
    from zero: otherwise even one centred cluster sits in a funnel as the SD shrinks.

    Parameters
    ----------
    design : Design
        The model's design (its ``parameterization`` and clusters).

    Returns
    -------
    ndarray
        (cluster,) bool: True where the cluster's effects are sampled centred.
    """
    mode = design.spec.parameterization
    if mode != "auto":
        return np.full(len(design.cluster_labels), mode == "centered")
    r = information_ratio(design)
    return (r > CENTRE_ABOVE) & (np.median(r) > POOLED_ABOVE)


def domain_information(design: Design) -> np.ndarray | None:
    r"""Per effect, :math:`A_e`: the median domain's information per unit of its variance.

    The information is the domain deviation's, through its clusters:

    .. math:: A_{de} = \sum_{c \in d} \left(\bar\sigma_{\mathrm{clu}}^2
              + 1/I_{ce}\right)^{-1}

    (:math:`I_{ce}` the clusters' Fisher information from :func:`_fisher`,
    :math:`\bar\sigma_{\mathrm{clu}}` the cluster SD's prior mean). None where the
    centring does not follow the data: ``parameterization`` ``centered`` or
    ``noncentered``, and a base distribution without a parameter of its own (the Poisson),
    whose domain deviations stay non-centred.

    Parameters
    ----------
    design : Design
        The model's design (its ``parameterization``, family, clusters and domains).

    Returns
    -------
    ndarray or None
        (effect,) :math:`A_e`; None where the centring does not follow the data.
    """
    if design.spec.parameterization != "auto" or LIKELIHOODS[design.spec.family].parameter is None:
        return None
    fisher = _fisher(design, design.cluster_index, len(design.cluster_labels), slopes=True)
    sd_cluster = _prior_mean(design, "sd_cluster")
    per_cluster = 1.0 / (sd_cluster**2 + 1.0 / np.maximum(fisher, 1e-300))
    a = np.zeros((len(design.domain_labels), len(design.varying)))
    np.add.at(a, design.cluster_domain, per_cluster)
    return np.median(a, axis=0)


def _weight(information, mode: str, sd_domain):
    if information is None:
        return 0.0 * sd_domain + (1.0 if mode == "centered" else 0.0)
    r = sd_domain**2 * information
    return r / (1.0 + r)


def domain_centring(design: Design, sd_domain: float | np.ndarray | pt.TensorVariable
                    ) -> float | np.ndarray | pt.TensorVariable:
    r"""How centred each varying effect's domain deviations are at domain SD ``sd_domain``.

    Parameters
    ----------
    design : Design
        The model's design.
    sd_domain : float, ndarray or TensorVariable
        The domain SD per effect.

    Returns
    -------
    same type as ``sd_domain``
        :math:`w_e \in [0, 1]` (0 non-centred, 1 centred). ``noncentered`` and
        ``centered`` give 0 and 1; ``auto`` the partial centring of Papaspiliopoulos,
        Roberts and Sköld (2007), :math:`w_e = r_e/(1 + r_e)`, the share of a domain
        deviation's posterior precision that comes from the data at the current SD,
        :math:`r_e = \sigma_e^2 A_e` (:func:`domain_information`). With four domains the
        domain SD's posterior spans an order of magnitude, and each pure form, or any
        fixed :math:`w`, has a tail the sampler cannot follow: where the data pin the
        deviations the non-centred form narrows as the SD grows, the centred one as it
        shrinks.
    """
    return _weight(domain_information(design), design.spec.parameterization, sd_domain)


@dataclass(frozen=True)
class Parameterisation:
    """What a fit decided about the hierarchy's parameterisation, recorded in its run.

    Attributes
    ----------
    mode : str
        The spec's ``parameterization``.
    centred : ndarray or None
        (cluster,) True where the cluster's effects are sampled centred; None without
        cluster effects.
    domain_information : ndarray or None
        (effect,) :math:`A_e` of :func:`domain_information`; None where :math:`w` is
        fixed at 0 or 1.
    intercepts_at_means : bool
        Whether the intercepts are sampled at every design column's mean
        (:func:`~bayescluster.model.design.column_means`) rather than at the continuous
        columns' alone: in a single-level model, where the slopes are what mixes slowest
        (on pscl's bioChemists 1.7x the min-ESS/s). Not with cluster effects: there the
        group SDs mix slowest and lost a quarter of their ESS on grouseticks
        (``reports/benchmarks.md``). False in runs that predate it.
    mass_matrix : str
        nutpie's mass-matrix adaptation: ``low_rank`` in a single-level model, where
        correlated coefficients (dummies, interactions) mix slowest and a low-rank matrix
        gains most; ``diag`` with cluster effects, where a low-rank matrix lost most of
        the min-ESS/s on grouseticks, won on other tables, and no rule read from the data
        told them apart (``reports/levers/adaptation.md``). ``diag`` in runs that predate
        it.
    """

    mode: str
    centred: np.ndarray | None
    domain_information: np.ndarray | None
    intercepts_at_means: bool = False
    mass_matrix: str = "diag"

    def domain_weight(self, sd_domain: float | np.ndarray | pt.TensorVariable
                      ) -> float | np.ndarray | pt.TensorVariable:
        r""":math:`w_e` at domain SD ``sd_domain`` (see :func:`domain_centring`).

        Parameters
        ----------
        sd_domain : float, ndarray or TensorVariable
            (effect,) the domain SD :math:`\sigma^{\mathrm{dom}}_e` (the model's
            ``sd_domain``).

        Returns
        -------
        same type as ``sd_domain``
            (effect,) :math:`w_e \in [0, 1]`: 0 non-centred, 1 centred.
        """
        return _weight(self.domain_information, self.mode, sd_domain)

    def to_record(self) -> dict:
        """A JSON-ready dict (stored in the run).

        Returns
        -------
        dict
            ``mode``, ``centred`` and ``domain_information`` (lists or None),
            ``intercepts_at_means`` and ``mass_matrix``.
        """
        return {"mode": self.mode,
                "centred": None if self.centred is None else self.centred.tolist(),
                "domain_information": None if self.domain_information is None
                else self.domain_information.tolist(),
                "intercepts_at_means": self.intercepts_at_means,
                "mass_matrix": self.mass_matrix}

    @classmethod
    def from_record(cls, record: dict) -> "Parameterisation":
        """The inverse of :meth:`to_record`.

        Parameters
        ----------
        record : dict
            What :meth:`to_record` wrote; a record without ``intercepts_at_means`` or
            ``mass_matrix`` (an older run) reads them as False and ``diag``.

        Returns
        -------
        Parameterisation
            The decision the run recorded.
        """
        centred, info = record["centred"], record["domain_information"]
        return cls(record["mode"], None if centred is None else np.array(centred, bool),
                   None if info is None else np.array(info, float),
                   bool(record.get("intercepts_at_means", False)),
                   str(record.get("mass_matrix", "diag")))


def choose(design: Design) -> Parameterisation:
    """Decide the parameterisation of ``design``'s hierarchy (the rules above).

    Parameters
    ----------
    design : Design
        The model's design.

    Returns
    -------
    Parameterisation
        Without cluster effects, no centring, the intercepts at every column's mean and a
        low-rank mass matrix; else :func:`centred_clusters` and, with domain pooling,
        :func:`domain_information`, and a diagonal mass matrix.
    """
    if not design.varying:
        return Parameterisation(design.spec.parameterization, None, None, True, "low_rank")
    information = domain_information(design) if design.spec.pool_by_domain else None
    return Parameterisation(design.spec.parameterization, centred_clusters(design),
                            information, False)
