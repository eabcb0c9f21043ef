"""Where the project's shipped files live.

The model specs (``models/``) and the study's data (``data/``: the cluster registry, the
default firm table, the paper's tables).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
PAPER_DIR = DATA_DIR / "paper"
MODELS_DIR = ROOT / "models"
DEFAULT_DATA = DATA_DIR / "firms.csv"
DEFAULT_SPEC = MODELS_DIR / "zinb_hier.toml"
