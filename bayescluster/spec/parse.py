"""Model specs: TOML files in ``models/``, validated on load.

A spec names the columns for each role, covariate transforms, fixed-effect terms (with
``a:b`` interactions), the family and its zero-part terms, which effects vary by cluster,
whether cluster effects pool toward domain means, priors, and the missing-data rule.
Every key, its type, default and meaning: :mod:`bayescluster.spec.schema`.
"""

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bayescluster.core.errors import SpecError, did_you_mean
from bayescluster.core.resources import MODELS, shipped, shipped_names
from bayescluster.core.textfile import read_text
from bayescluster.data.roles import Roles
from bayescluster.spec.families import ALIASES, DEFAULT_FAMILY, FAMILIES, parameter_priors
from bayescluster.spec.sampling import MAX_ITERATIONS
from bayescluster.spec.schema import DEFAULT_PRIORS, PRIOR_DISTS, sections

SCHEMA_VERSION = 1
ROLES = ("count", "binary", "positive", "numeric", "categorical")
TRANSFORMS = ("log", "standardize")
MISSING = ("impute", "drop")
PARAMETERIZATIONS = ("auto", "noncentered", "centered")
SECTIONS = sections()


def _typed(where: str, value, kind: type | tuple, fix: str):
    """``value`` if it is of ``kind`` (a bool is no number here), else a SpecError."""
    number = kind in (int, float, (int, float))
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind) or (
            number and isinstance(value, bool)):
        raise SpecError(f"{where} = {value!r} has the wrong type "
                        f"({type(value).__name__}). Fix: {fix}")
    return value


POSITIVE = ("sigma", "lam", "alpha", "beta", "nu")
# parameters a spec may leave to the data: the intercept's location (log mean count) and the
# slopes' scale (AUTO_SCALE / the column's SD, as rstanarm's autoscale)
AUTO = {("mu", "intercept"), ("sigma", "coef"),
        ("sigma", "zero_coef")}


def _unknown(kind: str, names, valid) -> None:
    bad = [n for n in names if n not in valid]
    if bad:
        if not all(isinstance(n, str) for n in bad):
            raise SpecError(f"{kind} {', '.join(map(repr, bad))} must be text. Valid names "
                            f"are: {', '.join(valid)}.")
        near = did_you_mean(bad[0], valid)
        raise SpecError(f"unknown {kind} {', '.join(map(repr, bad))}.{near} "
                        f"Valid names are: {', '.join(valid)}.")


@dataclass(frozen=True)
class Term:
    """A fixed-effect term: a product of covariates, e.g. ``a:b:c``."""

    factors: tuple[str, ...]

    @property
    def name(self) -> str:
        """The term as written, factors joined by ``:``."""
        return ":".join(self.factors)


@dataclass(frozen=True)
class Spec:
    """A validated model spec. ``text`` is the TOML it was read from (stored in runs)."""

    name: str
    family: str
    columns: dict
    covariates: dict[str, str]
    transforms: dict[str, tuple[str, ...]]
    baselines: dict[str, str]
    fixed: tuple[Term, ...]
    zero: tuple[Term, ...]
    varying: tuple[str, ...]
    pool_by_domain: bool
    parameterization: str
    priors: dict
    missing: str
    description: str = ""
    paper_model: str | None = None
    selection: dict | None = None  # {"treatment", "terms", "cluster_effect"}
    domains: tuple[str, ...] = ()  # declared domain labels ([hierarchy] domains)
    sampling: dict = field(default_factory=dict)  # draws, tune, target_accept defaults
    text: str = field(default="", repr=False)
    from_formula: bool = False  # given by a formula (its fixes are options, not TOML keys)

    @property
    def roles(self) -> Roles:
        """The column roles the spec's [columns] and [covariates] declare."""
        by = {r: tuple(c for c, role in self.covariates.items() if role == r) for r in ROLES}
        return Roles(outcome=self.columns["outcome"], cluster=self.columns.get("cluster"),
                     domain=self.columns.get("domain"), id=self.columns.get("id"),
                     exposure=self.columns.get("exposure"), per=self.columns.get("per"),
                     counts=by["count"],
                     binary=by["binary"], positive=by["positive"], numeric=by["numeric"],
                     categorical=by["categorical"], domains=self.domains)

    @property
    def hierarchical(self) -> bool:
        """Whether any effect varies by cluster."""
        return bool(self.varying)

    @property
    def hash(self) -> str:
        """A short hash of the spec's text (compiled-model cache key)."""
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def hint(self, key: str, value: str | float) -> str:
        """How the user of this spec sets ``key`` to ``value``: a TOML key or an option.

        A spec given by a formula (``bayescluster fit --formula``, ``bc.fit("y ~ x")``)
        is changed by options, a TOML spec by its keys; a fix names the one the user has.

        Parameters
        ----------
        key : str
            ``"missing"``, ``"baselines"``, ``"parameterization"``, ``"target_accept"``,
            ``"tune"`` or ``"prior"``.
        value : str or float
            The value to suggest; for ``baselines`` the covariate and for ``prior`` the
            prior's key (their level and table are shown as examples).

        Returns
        -------
        str
            A sentence for an error's fix: the command-line option (and Python keyword)
            for a formula's spec, else the TOML key (and the option where there is one).
        """
        option, keyword, toml = {
            "missing": (f"--missing {value}", f"missing={value!r}", f"missing = \"{value}\""),
            "baselines": (f"--baseline {value}=LEVEL", f"baselines={{{value!r}: LEVEL}}",
                          f"[baselines] {value} = \"LEVEL\""),
            "parameterization": (f"--parameterization {value}",
                                 f"parameterization={value!r}",
                                 f"[hierarchy] parameterization = \"{value}\""),
            "target_accept": (f"--target-accept {value}", f"target_accept={value}",
                              f"[sampling] target_accept = {value}"),
            "tune": (f"--tune {value}", f"tune={value}", f"[sampling] tune = {value}"),
            "prior": (f"--prior \"{value}=gamma(alpha=4, beta=10)\"",
                      f"priors={{{value!r}: {{'dist': 'gamma', 'alpha': 4, 'beta': 10}}}}",
                      f"[priors] {value} = {{ dist = \"gamma\", alpha = 4, beta = 10 }}"),
        }[key]
        if self.from_formula:
            return f"pass {option} (in Python: bc.fit(..., {keyword}))."
        return f"set {toml} in the spec (or pass {option})." if key in (
            "parameterization", "target_accept", "tune") else f"set {toml} in the spec."

    def label(self, factor: str) -> str:
        """Display name of a covariate after its transforms, standardisation not shown.

        Parameters
        ----------
        factor : str
            A covariate.

        Returns
        -------
        str
            ``log(x)`` for a logged covariate, else its name.
        """
        return f"log({factor})" if "log" in self.transforms.get(factor, ()) else factor

    def term_label(self, term: Term) -> str:
        """Display name of a term, its factors' labels joined by ``:``.

        Parameters
        ----------
        term : Term
            A term of the spec.

        Returns
        -------
        str
            E.g. ``log(scale):participant``.
        """
        return ":".join(self.label(f) for f in term.factors)


def _terms(raw, covariates, where) -> tuple[Term, ...]:
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise SpecError(f"[{where}] terms must be a list of strings like "
                        "\"x\" or \"x:z\".")
    terms = []
    for text in raw:
        factors = tuple(f.strip() for f in text.split(":"))
        for factor in factors:
            if factor.startswith("log(") and factor.endswith(")"):
                raise SpecError(f"[{where}] term {text!r}: write the covariate name "
                                f"({factor[4:-1]!r}) and put the log in [transforms].")
        _unknown(f"covariate in [{where}] term {text!r}:", factors, list(covariates))
        if len(set(factors)) != len(factors):
            raise SpecError(f"[{where}] term {text!r} names a covariate twice. Fix: write "
                            "each covariate once in a term.")
        terms.append(Term(factors))
    names = [t.name for t in terms]
    if len(set(names)) != len(names):
        raise SpecError(f"[{where}] terms repeat: {names}.")
    return tuple(terms)


def _prior(key: str, value):
    if key == "lkj_eta":
        if not isinstance(value, int | float) or value <= 0:
            raise SpecError("[priors] lkj_eta must be a positive number.")
        return float(value)
    if not isinstance(value, dict) or "dist" not in value:
        raise SpecError(f"[priors] {key} must be a table like {{ dist = \"normal\", mu = 0, "
                        "sigma = 1 }}.")
    _unknown(f"prior distribution for {key}:", [value["dist"]], list(PRIOR_DISTS))
    params = PRIOR_DISTS[value["dist"]]
    _unknown(f"parameter of {value['dist']} prior {key}:", [k for k in value if k != "dist"],
             list(params))
    missing = [p for p in params if p not in value]
    if missing:
        example = ", ".join(f"{p} = 1" for p in params)
        raise SpecError(f"[priors] {key}: {value['dist']} needs {', '.join(missing)}. Fix: "
                        f"e.g. {key} = {{ dist = \"{value['dist']}\", {example} }}.")
    for param in params:
        number = value[param]
        if number == "auto" and (param, key) in AUTO:
            continue
        _typed(f"[priors] {key}.{param}", number, (int, float), "give a number.")
        if param in POSITIVE and not number > 0:
            raise SpecError(f"[priors] {key}.{param} = {number!r} must be positive. Fix: "
                            f"give a number above 0, e.g. {param} = 1.")
    return dict(value)


def _sampling(raw: dict) -> dict:
    """[sampling]: the NUTS settings this model needs (command-line options override)."""
    for key in ("draws", "tune"):
        if key in raw:
            _typed(f"[sampling] {key}", raw[key], int, "give a whole number, e.g. 1000.")
            if not 1 <= raw[key] <= MAX_ITERATIONS:
                raise SpecError(f"[sampling] {key} = {raw[key]} is outside 1 to "
                                f"{MAX_ITERATIONS:,}. Fix: e.g. {key} = 1000.")
    if "target_accept" in raw:
        value = _typed("[sampling] target_accept", raw["target_accept"], (int, float),
                       "give a number in [0.5, 1), e.g. 0.9.")
        if not 0.5 <= value < 1:
            raise SpecError(f"[sampling] target_accept = {value} must lie in [0.5, 1). Fix: "
                            "e.g. 0.9.")
    return dict(raw)


def _selection(raw, covariates, fixed) -> dict | None:
    """[selection]: the treatment's probit equation, correlated with a firm effect."""
    if raw is None:
        return None
    treatment = raw.get("treatment")
    if treatment is None:
        raise SpecError("[selection] must name the treatment, e.g. treatment = \"treated\".")
    _unknown("[selection] treatment:", [treatment], list(covariates))
    if covariates[treatment] != "binary":
        raise SpecError(f"[selection] treatment {treatment!r} must be a binary covariate (it "
                        f"is {covariates[treatment]!r}).")
    if treatment not in [t.name for t in fixed]:
        raise SpecError(f"[selection] treatment {treatment!r} must also be a [fixed] term: "
                        "its effect on the outcome is what the correction is for.")
    terms = _terms(raw.get("terms", []), covariates, "selection")
    if any(treatment in t.factors for t in terms):
        raise SpecError(f"[selection] terms cannot contain the treatment {treatment!r} "
                        "itself.")
    if not terms:
        raise SpecError("[selection] terms must list the participation equation's "
                        "covariates, including at least one instrument (a covariate not in "
                        "[fixed], e.g. \"age\").")
    return {"treatment": treatment, "terms": terms,
            "cluster_effect": _typed("[selection] cluster_effect",
                                     raw.get("cluster_effect", True), bool,
                                     "write true or false (no quotes).")}


FROM_FORMULA = {"columns": ("outcome", "cluster", "domain", "exposure"),
                "hierarchy": ("varying", "pool_by_domain")}


def _from_formula(raw: dict, source: str) -> dict:
    """``raw`` with the sections its ``formula`` and ``zero_formula`` stand for."""
    from bayescluster.spec.formula import read_formula

    if "formula" not in raw:
        raise SpecError(f"{source}: zero_formula needs a formula for the count part.")
    given = [k for k in ("fixed", "zero", "transforms") if k in raw] + [
        f"{section}.{key}" for section, keys in FROM_FORMULA.items()
        for key in keys if key in raw.get(section, {})]
    if given:
        raise SpecError(f"{source}: {', '.join(given)} are given by the formula; remove them "
                        "or the formula.")
    read = read_formula(raw["formula"], raw.get("zero_formula"))
    covariates = raw.get("covariates", {})
    undeclared = [c for c in read["covariates"] if c not in covariates]
    if undeclared:
        raise SpecError(f"{source}: the formula's covariate(s) {', '.join(undeclared)} have no "
                        "role. Fix: declare each in [covariates], e.g. x = \"numeric\" (roles: "
                        f"{', '.join(ROLES)}).")
    declared = [c for c in read["categorical"] if covariates[c] != "categorical"]
    if declared:
        raise SpecError(f"{source}: the formula writes C({declared[0]}), but [covariates] "
                        f"declares {declared[0]} = {covariates[declared[0]]!r}. Fix: declare "
                        f"{declared[0]} = \"categorical\", or write {declared[0]} without C().")
    out = {k: v for k, v in raw.items() if k not in ("formula", "zero_formula")}
    out["columns"] = {**raw.get("columns", {}), **read["columns"]}
    out["fixed"] = {"terms": read["fixed"]}
    out["zero"] = {"terms": read["zero"]}
    out["transforms"] = read["transforms"]
    out["hierarchy"] = {**raw.get("hierarchy", {}), "varying": read["varying"],
                        "pool_by_domain": read["pool_by_domain"]}
    return out


def parse_spec(text: str, source: str = "<string>") -> Spec:
    """Validate TOML text as a model spec.

    Parameters
    ----------
    text : str
        The spec's TOML text, kept in the spec (runs store it).
    source : str
        Where the text came from (a path, ``formula '...'``), named in errors; a spec
        without ``name`` takes the stem of it.

    Returns
    -------
    Spec
        The validated spec, defaults filled in.

    Raises
    ------
    SpecError
        For the first problem found, naming the key and the fix.
    """
    raw = _read(text, source)
    from_formula = "formula" in raw or "zero_formula" in raw
    if from_formula:
        raw = _from_formula(raw, source)
    family = _family(raw)
    columns = _columns(raw)
    covariates = _covariates(raw)
    transforms = _transforms(raw, covariates)
    baselines = _baselines(raw, covariates)
    fixed, zero = _fixed_and_zero(raw, covariates, family)
    hierarchy = raw.get("hierarchy", {})
    varying, domains, parameterization = _hierarchy(hierarchy, fixed)
    if columns.get("per") and columns.get("exposure"):
        raise SpecError("[columns] give either exposure (a count outcome with an offset) or "
                        "per (an outcome that is a rate per that column), not both.")
    selection = _selection(raw.get("selection"), covariates, fixed)
    _grouped(columns, varying, selection)
    priors = _priors(raw, family)
    missing = raw.get("missing", "impute")
    _unknown("missing-data rule", [missing], list(MISSING))
    return Spec(
        name=raw.get("name", Path(source).stem), family=family, columns=columns,
        covariates=covariates, transforms=transforms, baselines=baselines, fixed=fixed,
        zero=zero, varying=varying, pool_by_domain=_typed(
            "[hierarchy] pool_by_domain", hierarchy.get("pool_by_domain", True), bool,
            "write true or false (no quotes).") and bool(columns.get("domain")),
        parameterization=parameterization, priors=priors,
        missing=missing, description=raw.get("description", ""),
        paper_model=_typed("[paper] model", raw.get("paper", {}).get("model", ""), str,
                           "name the paper's model in quotes, e.g. model = \"m3\".") or None,
        selection=selection,
        sampling=_sampling(raw.get("sampling", {})), domains=tuple(domains), text=text,
        from_formula=from_formula,
    )


def _read(text: str, source: str) -> dict:
    """The TOML's tables, their keys known and the schema version the current one."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{source} is not valid TOML: {error}.") from None
    _unknown("top-level key(s) in " + source + ":", list(raw), list(SECTIONS))
    for section, keys in SECTIONS.items():
        if keys and section in raw:
            if not isinstance(raw[section], dict):
                raise SpecError(f"[{section}] must be a table.")
            _unknown(f"key(s) in [{section}]:", list(raw[section]), list(keys))
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        found = "an empty spec" if not raw else f"found {version!r}"
        raise SpecError(f"{source}: schema_version must be {SCHEMA_VERSION} ({found}). Fix: "
                        f"start the spec with schema_version = {SCHEMA_VERSION}, then name, "
                        "family, [columns] and [covariates] (see models/zinb_hier.toml).")
    return raw


def _family(raw: dict) -> str:
    """The family, after the top-level text keys are checked to be text."""
    for key in ("name", "description", "family", "missing"):
        if key in raw:
            _typed(key, raw[key], str, f"write it in quotes, e.g. {key} = \"...\".")
    family = raw.get("family", DEFAULT_FAMILY)
    known = ALIASES.get(family.lower()) if isinstance(family, str) else None
    if family not in FAMILIES and known is not None and known != family:
        raise SpecError(f"unknown family {family!r}: this package calls it {known!r}. Fix: "
                        f"family {known!r} (valid names are: {', '.join(FAMILIES)}).")
    _unknown("family", [family], list(FAMILIES))
    return family


def _columns(raw: dict) -> dict:
    """[columns]: role -> column name, the outcome's required."""
    columns = dict(raw.get("columns", {}))
    if "outcome" not in columns:
        raise SpecError("[columns] must name the 'outcome' column.")
    for key, value in columns.items():
        _typed(f"[columns] {key}", value, str, f"name the column in quotes, e.g. {key} = "
               "\"firm_id\".")
    return columns


def _covariates(raw: dict) -> dict[str, str]:
    """[covariates]: covariate -> its role."""
    covariates = dict(raw.get("covariates", {}))
    for name, role in covariates.items():
        _unknown(f"role for covariate {name!r}:", [role], list(ROLES))
    return covariates


def _transforms(raw: dict, covariates: dict) -> dict:
    """[transforms]: covariate -> its chain of transforms, each fit for the covariate's role."""
    transforms = {}
    for name, chain in raw.get("transforms", {}).items():
        _unknown("covariate in [transforms]:", [name], list(covariates))
        if not isinstance(chain, str | list):
            raise SpecError(f"[transforms] {name} = {chain!r} must be a transform or a list "
                            "of them. Fix: e.g. scale = [\"log\", \"standardize\"].")
        chain = (chain,) if isinstance(chain, str) else tuple(chain)
        _unknown(f"transform of {name!r}:", chain, list(TRANSFORMS))
        if covariates[name] in ("binary", "categorical"):
            raise SpecError(f"[transforms] {name}: {covariates[name]} covariates are used as "
                            "they are; remove the transform.")
        if "log" in chain and covariates[name] not in ("positive", "count"):
            raise SpecError(f"[transforms] {name}: a log needs a 'positive' or 'count' "
                            f"covariate, not {covariates[name]!r}.")
        transforms[name] = chain
    return transforms


def _baselines(raw: dict, covariates: dict) -> dict:
    """[baselines]: categorical covariate -> its baseline level."""
    baselines = dict(raw.get("baselines", {}))
    for name, level in baselines.items():
        _typed(f"[baselines] {name}", level, str, "name the baseline level in quotes.")
        _unknown("categorical covariate in [baselines]:", [name],
                 [c for c, r in covariates.items() if r == "categorical"])
    return baselines


def _fixed_and_zero(raw: dict, covariates: dict, family: str
                    ) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """[fixed] and [zero] terms; zero-part terms only for a family with a zero part."""
    fixed = _terms(raw.get("fixed", {}).get("terms", []), covariates, "fixed")
    zero = _terms(raw.get("zero", {}).get("terms", []), covariates, "zero")
    if zero and not FAMILIES[family].zero_part:
        zeroed = ", ".join(n for n, f in FAMILIES.items() if f.zero_part)
        raise SpecError(f"a zero part's predictors (--zero-formula, or [zero] terms) need a "
                        f"family with a zero part; {family!r} has none. Fix: choose one of "
                        f"{zeroed} (--family, or family = in a spec), or leave the zero part "
                        "out.")
    return fixed, zero


def _hierarchy(hierarchy: dict, fixed: tuple[Term, ...]) -> tuple[tuple[str, ...], list, str]:
    """[hierarchy]: the varying effects, the declared domains and the parameterisation.

    ``pool_by_domain`` is read with the rest of the spec, after every other check.
    """
    varying = _typed("[hierarchy] varying", hierarchy.get("varying", []), list,
                     "give a list, e.g. varying = [\"intercept\", \"x\"].")
    varying = tuple(varying)
    _unknown("varying effect(s) in [hierarchy]:", varying,
             ["intercept", *(t.name for t in fixed)])
    if varying and "intercept" not in varying:
        raise SpecError("[hierarchy] varying must include 'intercept' when slopes vary.")
    domains = _typed("[hierarchy] domains", hierarchy.get("domains", []), list,
                     "give a list of labels, e.g. domains = [\"bio\", \"it\"].")
    if not all(isinstance(d, str) for d in domains):
        raise SpecError(f"[hierarchy] domains = {domains!r} must list text labels. Fix: e.g. "
                        "domains = [\"bio\", \"it\"].")
    parameterization = hierarchy.get("parameterization", "auto")
    _unknown("parameterization", [parameterization], list(PARAMETERIZATIONS))
    return varying, domains, parameterization


def _grouped(columns: dict, varying: tuple[str, ...], selection: dict | None) -> None:
    """What groups firms needs [columns] to name the cluster column."""
    grouped = [what for what, used in (
        ("[hierarchy] varying", varying), ("[columns] domain", columns.get("domain")),
        ("[selection] cluster_effect", selection and selection["cluster_effect"])) if used]
    if grouped and "cluster" not in columns:
        raise SpecError(f"[columns] must name the 'cluster' column, which "
                        f"{', '.join(grouped)} need(s) to group firms. Fix: add cluster = "
                        "\"your_column\" to [columns], or remove those keys for a "
                        "single-level model.")


def _priors(raw: dict, family: str) -> dict:
    """[priors] over the defaults and the family's own parameter's, each validated."""
    own = FAMILIES[family].parameter
    own = {own.name: own.prior} if own else {}
    priors = {k: _prior(k, v)
              for k, v in {**DEFAULT_PRIORS, **own, **raw.get("priors", {})}.items()}
    if priors["selection_rho"]["dist"] != "beta":
        raise SpecError("[priors] selection_rho must be a beta prior on (rho + 1) / 2, e.g. "
                        "{ dist = \"beta\", alpha = 2, beta = 2 }.")
    return priors


def resolve(path_or_name: str | Path) -> Path:
    """A spec path, or the name of a shipped spec (``zinb_hier`` -> its TOML file).

    Parameters
    ----------
    path_or_name : str or Path
        A path that exists, or a shipped spec's name (a bare name, ``.toml`` optional).

    Returns
    -------
    Path
        The spec's file.

    Raises
    ------
    SpecError
        When neither, listing the shipped specs.
    """
    path = Path(path_or_name)
    if path.exists():
        return path
    names = shipped_names(MODELS, ".toml")
    if path.stem in names and path.parent == Path("."):
        return shipped(MODELS, f"{path.stem}.toml")
    raise SpecError(f"spec {str(path_or_name)!r} not found. Give a path to a TOML file or one "
                    f"of the shipped specs: {', '.join(names)}.")


def load_spec(path_or_name: str | Path) -> Spec:
    """Read and validate a spec file (or a shipped spec by name).

    Parameters
    ----------
    path_or_name : str or Path
        A TOML file's path or a shipped spec's name (:func:`~bayescluster.spec.parse.resolve`).

    Returns
    -------
    Spec
        The validated spec.

    Raises
    ------
    SpecError
        When the file is missing, a directory, not UTF-8 or not a valid spec.

    Examples
    --------
    >>> bc.load_spec("zinb_hier").family
    'zinb'
    """
    path = resolve(path_or_name)
    text = read_text(path, kind="a spec (TOML)", error=SpecError,
                     fix="save the spec as UTF-8 TOML text (`bayescluster fit --spec "
                         "zinb_hier` reads a shipped one; the README shows their keys)")
    return parse_spec(text, str(path))


def amend(spec: Spec, *, missing: str | None = None, baselines: dict | None = None,
          parameterization: str | None = None, priors: dict | None = None) -> Spec:
    """``spec`` with its missing-data rule, baselines, parameterisation or priors replaced.

    The spec's text is rewritten with the new keys (so a run records what was fitted);
    arguments left as None keep the spec's own. Comments of a TOML file do not survive
    an amendment.

    Parameters
    ----------
    spec : Spec
        The spec to amend.
    missing : str or None
        The missing-data rule, ``"impute"`` or ``"drop"``.
    baselines : dict or None
        Categorical covariate -> baseline level, merged over the spec's ``[baselines]``.
    parameterization : str or None
        ``"auto"``, ``"noncentered"`` or ``"centered"``.
    priors : dict or None
        Prior key -> table (or number for ``lkj_eta``), merged over the spec's
        ``[priors]``.

    Returns
    -------
    Spec
        ``spec`` itself when nothing changes, else the amended spec, validated again.
    """
    if missing is None and not baselines and parameterization is None and not priors:
        return spec
    from bayescluster.spec.toml import dumps

    raw = tomllib.loads(spec.text)
    if missing is not None:
        raw["missing"] = missing
    if baselines:
        raw["baselines"] = {**raw.get("baselines", {}),
                            **{str(k): str(v) for k, v in baselines.items()}}
    if parameterization is not None:
        raw["hierarchy"] = {**raw.get("hierarchy", {}), "parameterization": parameterization}
    if priors:
        raw["priors"] = {**raw.get("priors", {}), **priors}
    return parse_spec(dumps(raw), spec.name)


def prior_option(text: str) -> tuple[str, dict | float]:
    """Read ``"sd_cluster=gamma(alpha=4, beta=10)"`` (or ``"lkj_eta=3"``) as a prior.

    Parameters
    ----------
    text : str
        A ``--prior`` option's value, ``name=dist(param=number, ...)``.

    Returns
    -------
    (str, dict or float)
        The prior's key and its table, as ``[priors]`` would hold them (validated when
        the spec is parsed).

    Raises
    ------
    SpecError
        When the text is not ``name=dist(param=number, ...)`` or names no prior key.
    """
    example = "e.g. --prior \"sd_cluster=gamma(alpha=4, beta=10)\""
    name, sign, body = text.partition("=")
    name, body = name.strip(), body.strip()
    if not sign or not name or not body:
        raise SpecError(f"prior {text!r} must look like name=dist(param=number, ...), "
                        f"{example}.")
    _unknown("prior", [name], [*DEFAULT_PRIORS, *parameter_priors()])
    if name == "lkj_eta":
        try:
            return name, float(body)
        except ValueError:
            raise SpecError(f"prior {text!r}: lkj_eta is a number, e.g. lkj_eta=2.") from None
    dist, paren, rest = body.partition("(")
    if not paren or not rest.endswith(")"):
        raise SpecError(f"prior {text!r} must look like name=dist(param=number, ...), "
                        f"{example}.")
    table: dict = {"dist": dist.strip()}
    for part in filter(None, (p.strip() for p in rest[:-1].split(","))):
        key, eq, value = part.partition("=")
        try:
            table[key.strip()] = float(value)
        except ValueError:
            raise SpecError(f"prior {text!r}: {part!r} must be param=number, "
                            f"{example}.") from None
        if not eq:
            raise SpecError(f"prior {text!r}: {part!r} must be param=number, {example}.")
    return name, table
