"""Every key of a spec: its place, type, default and meaning.

The one table both the parser (:data:`SECTIONS`, the keys it accepts) and the references
(``models/README.md``, the documentation's spec reference) are made from.

The reference's defaults of the priors are :data:`~bayescluster.spec.schema.DEFAULT_PRIORS` and the
families'
registry's, written out when the reference is made, so they cannot drift from what a fit
uses.
"""

from dataclasses import dataclass

from bayescluster.spec.families import parameter_priors, with_block

PRIOR_DISTS = {
    "normal": ("mu", "sigma"),
    "halfnormal": ("sigma",),
    "exponential": ("lam",),
    "student_t": ("nu", "mu", "sigma"),
    "halfstudent_t": ("nu", "sigma"),
    "gamma": ("alpha", "beta"),
    "beta": ("alpha", "beta"),
}
DEFAULT_PRIORS = {
    "intercept": {"dist": "normal", "mu": "auto", "sigma": 2.5},
    "coef": {"dist": "normal", "mu": 0.0, "sigma": "auto"},
    "sd_domain": {"dist": "gamma", "alpha": 2.0, "beta": 5.0},
    "sd_cluster": {"dist": "gamma", "alpha": 2.0, "beta": 5.0},
    "lkj_eta": 2.0,
    "zero_intercept": {"dist": "normal", "mu": -1.5, "sigma": 1.5},
    "zero_coef": {"dist": "normal", "mu": 0.0, "sigma": "auto"},
    "impute_mean": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    "impute_sd": {"dist": "halfnormal", "sigma": 1.0},
    "selection_intercept": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "selection_coef": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    "selection_sd_cluster": {"dist": "gamma", "alpha": 2.0, "beta": 8.0},
    "firm_sd": {"dist": "gamma", "alpha": 4.0, "beta": 8.0},
    "selection_rho": {"dist": "beta", "alpha": 2.0, "beta": 2.0},  # on (rho + 1) / 2
}



@dataclass(frozen=True)
class Entry:
    """One row of the reference: the keys it covers and what they mean.

    Attributes
    ----------
    label : str
        How the row names its keys (Markdown).
    keys : tuple of (str or None, str or None)
        ``(section, key)`` pairs: a top-level key has section None; a free-form table
        (``[covariates]``) has key None.
    kind : str
        The TOML type.
    default : str
        The default, in words.
    meaning : str
        What the key does (Markdown).
    """

    label: str
    keys: tuple[tuple[str | None, str | None], ...]
    kind: str
    default: str
    meaning: str


ENTRIES = (
    Entry('`schema_version`', ((None, 'schema_version'),), 'integer',
          'required',
          'must be 1'),
    Entry('`name`, `description`', ((None, 'name'), (None, 'description')), 'string',
          'file name, ""',
          'labels'),
    Entry('`family`', ((None, 'family'),), 'string',
          '`zinb`',
          ('a base distribution (Poisson, NB2, NB1, generalized Poisson, Poisson-lognormal) with a '
           'zero structure (none, zero-inflated, hurdle): one of the 15 names in the table below')),
    Entry('`formula`, `zero_formula`', ((None, 'formula'), (None, 'zero_formula')), 'string',
          'none',
          ("the model in brms'/bambi's grammar instead of the tables it stands for (`[columns]` "
           'outcome, cluster, domain and exposure, `[fixed]`, `[zero]`, `[transforms]`, '
           '`[hierarchy]` varying and pool_by_domain, which may then not be given): `formula = "pat'
           ' ~ participant + log(scale) + scale(rd) + participant:national:sameregion + '
           'offset(log(age)) + (1 + participant | domain/cluster)"`, `zero_formula = "~ 1 + '
           'log(scale)"`. Read: terms, `:` and `*`, `log()`, `scale()` (standardize), '
           '`scale(log())`, `C()` (categorical), `offset(log())`, `(effects | domain/cluster)`, '
           '`(effects | cluster)`; anything else is an error naming the part. Every covariate still'
           ' needs its role in `[covariates]` (`bc.fit` and `bayescluster fit --formula` read them '
           'from the data)')),
    Entry('`missing`', ((None, 'missing'),), 'string',
          '`impute`',
          ('`impute` (missing covariates modelled, every row used: a continuous one as a latent '
           'value, a binary or categorical one summed over its values) or `drop` (listwise; the '
           'number dropped is reported). A blank cell of a text column is a missing value, never a '
           'level')),
    Entry('`[columns]`', tuple(("columns", k) for k in ("outcome", "cluster", "domain", "id",
                                                       "exposure", "per")),
          'string (a column name)',
          'outcome and cluster required',
          ('`outcome`, `cluster` (required); `domain` (omit for one grouping level), `id`, '
           '`exposure` (an offset log(exposure) is added); or `per`: the outcome is a rate per unit'
           ' of that count column (claims per patent), modelled as the count outcome × per with '
           'offset log(per) on the firms with per > 0')),
    Entry('`[covariates]`', (('covariates', None),), 'table: column = role',
          'none (a formula reads them from the data)',
          'name = role: `count`, `binary`, `positive`, `numeric`, `categorical`'),
    Entry('`[transforms]`', (('transforms', None),), 'table: column = string or list',
          'none',
          ('name = `"log"`, `"standardize"` or a list applied in order; a log needs a `positive` or'
           ' `count` covariate (counts get log(x + 1)); binary and categorical covariates are not '
           'transformed')),
    Entry('`[baselines]`', (('baselines', None),), 'table: column = level',
          ("a `pandas.Categorical`'s first category, else the first level in sorted order "
           '(numerically when every level is a number); the levels are fixed when the model is '
           'fitted and recorded in the run, and a level the fit never saw (in `predict`, a '
           'counterfactual, a profile) is an error naming the known ones'),
          'categorical name = baseline level'),
    Entry('`[fixed] terms`', (('fixed', 'terms'),), 'list of strings',
          '[]',
          ('covariate names; `a:b` is a product (interaction); categorical covariates enter terms '
           'and interactions as formulae expands them: indicators of levels against the baseline, '
           'or of every level where the design needs them to stay full rank (`a:b` alone: `b` and '
           '`a:b`)')),
    Entry('`[zero] terms`', (('zero', 'terms'),), 'list of strings',
          '[] (intercept only)',
          "predictors of the zero part's logit (a zero-inflated or hurdle family)"),
    Entry('`[hierarchy] varying`', (('hierarchy', 'varying'),), 'list of strings',
          '[] (single level)',
          ('effects that vary by cluster: `intercept` and any fixed term (a categorical one varies '
           'level by level)')),
    Entry('`[hierarchy] pool_by_domain`', (('hierarchy', 'pool_by_domain'),), 'boolean',
          'true',
          'cluster effects pooled toward domain means (needs `columns.domain`)'),
    Entry('`[hierarchy] parameterization`', (('hierarchy', 'parameterization'),), 'string',
          '`auto`',
          ("`auto` (non-centred clusters where the prior dominates, centred where a cluster's data "
           "carry more information than the prior and the typical cluster's 1.5 times as much: from"
           ' about 50 firms a cluster; domain deviations partially centred, by the share of their '
           "precision that their clusters' data give at the current domain SD), `noncentered` or "
           '`centered` (both levels)')),
    Entry('`[hierarchy] domains`', (('hierarchy', 'domains'),), 'list of strings',
          "[] (the registry's)",
          ("the domain labels a table's domain column may use (a label outside them is an error, "
           "not a new domain); the study's tables use the registry's four unless a spec declares "
           'its own')),
    Entry('`[selection]`', tuple(("selection", k) for k in ("treatment", "terms",
                                                           "cluster_effect")),
          'string; list of strings; boolean',
          'none',
          ("`treatment` (a binary `[fixed]` term), `terms` (the participation equation's "
           'covariates; include an instrument that is not in `[fixed]`), `cluster_effect` (cluster '
           'intercepts in the participation equation, default true). The treatment may not be '
           'missing')),
    Entry('`[sampling]`', tuple(("sampling", k) for k in ("draws", "tune", "target_accept")),
          'integer, integer, number',
          '1000, 1000, 0.9',
          ('`draws`, `tune`, `target_accept`: the NUTS settings this model needs; command-line '
           'options override. A fit that fails its gates at 4 x 1000 draws or more tries '
           'target_accept 0.99, the other parameterisation, longer tuning and more draws, as the '
           'gates call for (`--no-remedies` keeps the first fit)')),
    Entry('`[paper] model`', (('paper', 'model'),), 'string',
          'none',
          "`m1`, `m2`, `m3`: print Table 4's values beside ours"),
)
PRIOR_MEANINGS = {  # [priors] key(s) -> (about the default; what the prior is on)
    ('intercept',): (
        '"auto" = log(mean y + 0.1) − mean offset',
        ('population intercept (log scale); when continuous covariates are not standardised, the '
         'model centres their columns and this prior is on the intercept at their means '
         "(`intercept_centred`, as brms' `Intercept`), while `intercept` is reported on the data's "
         'scale. The same holds for `zero_intercept`')),
    ('coef',): (
        ('"auto" = 2.5 / the column\'s SD, as rstanarm\'s autoscaled prior: weakly '
         "informative on the change per SD, whatever unit a covariate is in. The study's "
         "specs state normal(0, 1) on "
         'their standardised covariates'),
        'every fixed effect'),
    ('sd_domain', 'sd_cluster'): (
        'mean 0.4, zero-avoiding',
        'SDs of domain and cluster deviations, per varying effect'),
    ('lkj_eta',): (
        '',
        'LKJ prior on the correlation of cluster deviations (when more than one effect varies)'),
    ('dispersion',): (
        "NB2's, NB1's (mean 10) and the generalized Poisson's (mean 4, 9% below 1)",
        ("the base distribution's dispersion (its meaning in the families table: NB2 alpha, Var = "
         'mu + alpha mu²; NB1 phi, Var = mu (1 + phi); generalized Poisson phi, Var = mu phi)')),
    ('sigma_row',): (
        '',
        "the Poisson-lognormal's SD of each row's log-rate factor"),
    ('zero_intercept',): (
        '',
        'logit P(zero)'),
    ('zero_coef',): (
        'as `coef`',
        'zero-part predictors'),
    ('impute_mean', 'impute_sd'): (
        '',
        'imputation model of a missing continuous covariate (standardised)'),
    ('selection_intercept', 'selection_coef'): (
        '',
        'participation (probit) equation'),
    ('selection_sd_cluster',): (
        'mean 0.25',
        "SD of the participation equation's cluster intercepts"),
    ('firm_sd',): (
        'mean 0.5, zero-avoiding',
        'SD of the firm effect correlated with participation'),
    ('selection_rho',): (
        'on (rho + 1) / 2',
        'rho, the correlation of the participation error and the firm effect'),
}


def prior_keys() -> tuple[str, ...]:
    """Every ``[priors]`` key: :data:`DEFAULT_PRIORS`' and the families' own parameters'.

    Returns
    -------
    tuple of str
        The keys, the families' parameters after ``lkj_eta``.
    """
    keys = list(DEFAULT_PRIORS)
    at = keys.index("lkj_eta") + 1
    return (*keys[:at], *parameter_priors(), *keys[at:])


def sections() -> dict[str, tuple[str, ...] | None]:
    """The keys a spec may hold, by section, as the parser checks them.

    Returns
    -------
    dict of str to tuple of str or None
        Section (or top-level key) -> its keys; None where any key is allowed (a top-level
        value, or a table keyed by the table's columns such as ``[covariates]``).
    """
    out: dict[str, tuple[str, ...] | None] = {}
    for entry in ENTRIES:
        for section, key in entry.keys:
            if section is None or key is None:
                out[section or key] = None
            else:
                out[section] = (*(out.get(section) or ()), key)
    out["priors"] = prior_keys()
    return out


def _prior_text(prior: dict | float) -> str:
    if not isinstance(prior, dict):
        return str(prior)
    params = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}"
                       for k, v in prior.items() if k != "dist")
    return f"{prior['dist']}({params})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference() -> str:
    """The spec reference in Markdown: every key, then every prior with its default.

    Returns
    -------
    str
        Two tables: key, type, default, meaning; prior, default (from the code, with a
        note), what it is a prior on.
    """
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| {_cell(e.label)} | {e.kind} | {_cell(e.default)} | {_cell(e.meaning)} |"
             for e in ENTRIES]
    own = parameter_priors()
    dists = ", ".join(f"`{d} ({', '.join(params)})`" for d, params in PRIOR_DISTS.items())
    rows += ["", f"Each `[priors]` entry is `{{ dist = ..., params }}` with `dist` one of {dists}.",
             "", "| prior | default | on |", "| --- | --- | --- |"]
    covered = [k for names in PRIOR_MEANINGS for k in names]
    for names, (words, on) in PRIOR_MEANINGS.items():
        coded = dict.fromkeys(
            _prior_text(DEFAULT_PRIORS[k]) if k in DEFAULT_PRIORS
            else " or ".join(_prior_text(p) for p in own[k]) for k in names)
        label = ", ".join(f"`{k}`" for k in names)
        about = f": {_cell(words)}" if words else ""
        rows.append(f"| {label} | `{_cell('; '.join(coded))}`{about} | {_cell(on)} |")
    missing = [k for k in prior_keys() if k not in covered]
    assert not missing, f"PRIOR_MEANINGS lacks {missing}"  # a new prior needs its row
    return "\n".join(rows) + "\n"


MARKERS = ("<!-- spec keys: generated from bayescluster/spec/schema.py -->", "<!-- /spec keys -->")
DOCUMENT = "models/README.md"  # holds the reference between the markers


def with_reference(text: str) -> str:
    """``text`` with the reference between :data:`MARKERS` rewritten.

    Parameters
    ----------
    text : str
        A Markdown document holding both markers.

    Returns
    -------
    str
        The document with :func:`reference` between the markers.

    Raises
    ------
    ValueError
        When the markers are missing.
    """
    return with_block(text, MARKERS, reference())


def write_reference(root: str) -> None:
    """Rewrite the reference in :data:`DOCUMENT` under ``root`` (``make tables``).

    Parameters
    ----------
    root : str
        The repository's root directory.
    """
    from pathlib import Path

    path = Path(root) / DOCUMENT
    path.write_text(with_reference(path.read_text()))
