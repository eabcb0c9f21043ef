r"""Likelihood families, declared once: a base count distribution times a zero structure.

A family's name is what a spec writes (``family = "zinb"``); it stands for a base
distribution of the count (:data:`BASES`) composed with a zero structure
(:data:`~bayescluster.spec.families.ZEROS`).
This module is the declaration only (names, parameters, default priors, the mathematics
in words); the computations live in :mod:`bayescluster.model.families`, one module per base
distribution. Every base is written in terms of the log mean :math:`\eta = \log\mu` and at
most one parameter of its own; the zero part's logit is :math:`\zeta`, with
:math:`\pi = \mathrm{logit}^{-1}(\zeta)` = **P(zero)** everywhere the user sees it (PyMC's
``psi`` is :math:`1 - \pi`). With :math:`f` the base's pmf and :math:`f(0)` its P(0):

- none: :math:`p(y) = f(y)`
- zero-inflated: :math:`p(0) = \pi + (1-\pi) f(0)`, :math:`p(y) = (1-\pi) f(y)` above zero
  (:math:`\pi` = P(structural zero))
- hurdle: :math:`p(0) = \pi`, :math:`p(y) = (1-\pi) f(y) / (1 - f(0))` above zero
  (:math:`\pi` = P(zero))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Parameter:
    """A base distribution's own parameter.

    Attributes
    ----------
    name : str
        The posterior variable's name and the ``[priors]`` key.
    symbol : str
        Its symbol in the mathematics.
    meaning : str
        What it measures, for reports.
    prior : dict
        Its default prior, in the spec's prior grammar.
    """

    name: str
    symbol: str
    meaning: str
    prior: dict


@dataclass(frozen=True)
class BaseDistribution:
    r"""A count distribution with mean :math:`\mu = e^\eta` and at most one parameter.

    Attributes
    ----------
    name : str
        Its name (the family name without a zero structure).
    label : str
        Its name in the literature, for reports.
    math : str
        The distribution in plain text, for reports.
    parameter : Parameter or None
        Its own parameter, if any.
    names : dict
        The family name of each zero structure (``"none"``, ``"zi"``, ``"hurdle"``).
    glmmtmb : str
        glmmTMB's family for the same distribution, for users coming from R.
    """

    name: str
    label: str
    math: str
    parameter: Parameter | None
    names: dict
    glmmtmb: str


@dataclass(frozen=True)
class ZeroStructure:
    """How zeros are added to a base distribution.

    Attributes
    ----------
    name : str
        ``"none"``, ``"zi"`` or ``"hurdle"``.
    label : str
        Its name in words.
    zero_meaning : str
        What P(zero) means under it (empty without a zero part).
    math : str
        The likelihood in plain text, ``{base}`` standing for the base distribution.
    """

    name: str
    label: str
    zero_meaning: str
    math: str

    @property
    def zero_part(self) -> bool:
        """Whether the structure has a zero part with its own linear predictor."""
        return self.name != "none"


@dataclass(frozen=True)
class Family:
    """A count likelihood: a base distribution composed with a zero structure.

    Attributes
    ----------
    name : str
        The name a spec uses (``family = "zinb"``).
    base : BaseDistribution
        The count distribution.
    zero : ZeroStructure
        The zero structure.
    """

    name: str
    base: BaseDistribution
    zero: ZeroStructure

    @property
    def zero_part(self) -> bool:
        r"""Whether the family has a zero part :math:`\pi` = P(zero) with its own predictor."""
        return self.zero.zero_part

    @property
    def parameter(self) -> Parameter | None:
        """The base distribution's own parameter, if any."""
        return self.base.parameter

    @property
    def zero_meaning(self) -> str:
        """What P(zero) means for this family, for reports."""
        return self.zero.zero_meaning

    @property
    def math(self) -> str:
        """The likelihood in plain text, for reports."""
        return self.zero.math.format(base=self.base.math)

    @property
    def label(self) -> str:
        """The family in words, e.g. ``"zero-inflated NB2"``."""
        return self.base.label if self.zero.name == "none" else \
            f"{self.zero.label} {self.base.label}"


ZEROS: dict[str, ZeroStructure] = {z.name: z for z in (
    ZeroStructure("none", "", "", "y_i ~ {base}"),
    ZeroStructure("zi", "zero-inflated", "P(zero) = probability of a structural zero",
                  "y_i ~ π_i δ₀ + (1 − π_i) f,   f: {base};   π_i = P(structural zero)"),
    ZeroStructure("hurdle", "hurdle", "P(zero) = probability that the count is zero",
                  "P(y_i = 0) = π_i,  y_i | y_i > 0 ~ zero-truncated f,   f: {base}"),
)}

BASES: dict[str, BaseDistribution] = {b.name: b for b in (
    BaseDistribution(
        "poisson", "Poisson", "Poisson(μ_i)", None,
        {"none": "poisson", "zi": "zip", "hurdle": "hurdle_poisson"}, "poisson"),
    BaseDistribution(
        "negbin", "NB2", "NB2(μ_i, α),  Var = μ_i + α μ_i²",
        Parameter("dispersion", "α", "NB2 dispersion: Var = μ + α μ²",
                  {"dist": "halfnormal", "sigma": 1.0}),
        {"none": "negbin", "zi": "zinb", "hurdle": "hurdle_nb"}, "nbinom2"),
    BaseDistribution(
        "nb1", "NB1", "NB1(μ_i, φ),  Var = μ_i (1 + φ)",
        Parameter("dispersion", "φ", "NB1 dispersion: Var = μ (1 + φ)",
                  {"dist": "gamma", "alpha": 1.0, "beta": 0.1}),
        {"none": "nb1", "zi": "zinb1", "hurdle": "hurdle_nb1"}, "nbinom1"),
    BaseDistribution(
        "genpois", "generalized Poisson",
        "GP(μ_i, φ),  Var = μ_i φ  (Consul's θ = μ/√φ, λ = 1 − 1/√φ)",
        Parameter("dispersion", "φ",
                  "generalized Poisson dispersion: Var = μ φ (below 1: under-dispersed)",
                  {"dist": "gamma", "alpha": 2.0, "beta": 0.5}),
        {"none": "genpois", "zi": "zigp", "hurdle": "hurdle_genpois"}, "genpois"),
    BaseDistribution(
        "pln", "Poisson-lognormal",
        "Poisson(μ_i e^{ε_i}),  ε_i ~ N(0, σ²),  E = μ_i e^{σ²/2}",
        Parameter("sigma_row", "σ", "SD of each row's log-normal rate multiplier",
                  {"dist": "halfnormal", "sigma": 1.0}),
        {"none": "pln", "zi": "zipln", "hurdle": "hurdle_pln"}, "poisson + (1 | row)"),
)}

FAMILIES: dict[str, Family] = {
    base.names[zero.name]: Family(base.names[zero.name], base, zero)
    for base in BASES.values() for zero in ZEROS.values()
}

DEFAULT_FAMILY = "zinb"  # a spec or formula that names no family
# other software's names for a family, answered with this package's ("nb2" is not "nb1")
ALIASES = {"nb2": "negbin", "nb": "negbin", "nbinom2": "negbin", "negative_binomial": "negbin",
           "negativebinomial": "negbin", "nbinom1": "nb1", "zinb2": "zinb",
           "hurdle_nb2": "hurdle_nb", "hurdle_negbin": "hurdle_nb", "zip2": "zip",
           "generalized_poisson": "genpois", "poisson_lognormal": "pln"}


def parameter_priors() -> dict[str, tuple[dict, ...]]:
    """Every base parameter's ``[priors]`` key with the default prior of each base using it.

    Returns
    -------
    dict of str to tuple of dict
        Key -> default priors, in :data:`BASES` order (``dispersion`` has NB2's, NB1's and
        the generalized Poisson's).
    """
    out: dict[str, tuple[dict, ...]] = {}
    for base in BASES.values():
        if base.parameter is not None:
            out.setdefault(base.parameter.name, ())
            out[base.parameter.name] += (base.parameter.prior,)
    return out


MARKERS = ("<!-- families: generated from bayescluster/spec/families.py -->",
           "<!-- /families -->")


DOCUMENTS = ("docs/guide/families.md", "ARCHITECTURE.md", "models/README.md")  # hold it


def families_table() -> str:
    """The families as a Markdown table: a base distribution a row, a zero structure a column.

    Returns
    -------
    str
        The table, then a note on glmmTMB's equivalents.
    """
    zeros = list(ZEROS.values())
    lines = ["| base distribution | " + " | ".join(z.label or "no zero part" for z in zeros)
             + " | own parameter | glmmTMB |",
             "| --- | " + " | ".join("---" for _ in zeros) + " | --- | --- |"]
    for base in BASES.values():
        own = (f"`{base.parameter.name}` ({base.parameter.symbol}): {base.parameter.meaning}"
               if base.parameter else "none")
        names = " | ".join(f"`{base.names[z.name]}`" for z in zeros)
        lines.append(f"| {base.label}: {base.math} | {names} | {own} | `{base.glmmtmb}` |")
    note = ("\nglmmTMB fits a zero-inflated family with `ziformula` and a hurdle with the "
            "truncated family and `ziformula` (the Poisson-lognormal's hurdle has no glmmTMB "
            "equivalent: glmmTMB would truncate the Poisson given the row's factor).")
    return "\n".join(line.replace(" | row)", " \\| row)") for line in lines) + "\n" + note


def with_families_table(text: str) -> str:
    """``text`` with the block between :data:`MARKERS` replaced by :func:`families_table`.

    Parameters
    ----------
    text : str
        A Markdown document holding both markers.

    Returns
    -------
    str
        The document with the table between the markers renewed.

    Raises
    ------
    ValueError
        When the markers are missing.
    """
    return with_block(text, MARKERS, families_table())


def with_block(text: str, markers: tuple[str, str], body: str) -> str:
    """``text`` with the generated block between ``markers`` replaced by ``body``.

    Parameters
    ----------
    text : str
        A Markdown document holding both markers.
    markers : (str, str)
        The comment lines that open and close the block.
    body : str
        The block's new content.

    Returns
    -------
    str
        The document with ``body`` between the markers.

    Raises
    ------
    ValueError
        When the markers are missing.
    """
    start, end = markers
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise ValueError(f"no block between {start!r} and {end!r}")
    return head + start + "\n" + body.rstrip("\n") + "\n" + end + rest.split(end, 1)[1]


def write_tables(root: str | Path) -> None:
    """Rewrite the families table in :data:`DOCUMENTS` under ``root`` (``make tables``).

    Parameters
    ----------
    root : str or Path
        The repository's root directory.
    """
    from pathlib import Path

    for document in DOCUMENTS:
        path = Path(root) / document
        path.write_text(with_families_table(path.read_text()))
