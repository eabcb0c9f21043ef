"""Where the project's shipped files live (registry, default data, paper tables, specs)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
PAPER_DIR = DATA_DIR / "paper"
MODELS_DIR = ROOT / "models"
DEFAULT_DATA = DATA_DIR / "firms.csv"
DEFAULT_SPEC = MODELS_DIR / "zinb_hier.toml"
