"""Where the project's shipped files live.

The model specs and the study's data (the cluster registry, the default firm table, the
paper's tables) are package data: the build maps the repository's top-level ``models/`` and
``data/`` into the wheel as ``bayescluster.shipped.models`` and ``bayescluster.shipped.data``,
where :mod:`importlib.resources` finds them. An editable install cannot import those mapped
folders (setuptools' editable finder needs an ``__init__.py`` in them), so there the
checkout's own folders are used.
"""

from importlib.resources import files
from pathlib import Path

MODELS = "bayescluster.shipped.models"
DATA = "bayescluster.shipped.data"
PAPER = "bayescluster.shipped.data.paper"
_CHECKOUT = Path(__file__).resolve().parents[2]
_FOLDERS = {MODELS: ("models",), DATA: ("data",), PAPER: ("data", "paper")}


def _folder(package: str):
    try:
        return files(package)
    except ModuleNotFoundError:
        return _CHECKOUT.joinpath(*_FOLDERS[package])


def shipped(package: str, name: str) -> Path:
    """The path of a shipped file, e.g. ``shipped(MODELS, "zinb_hier.toml")``.

    Parameters
    ----------
    package : str
        The shipped folder: ``MODELS``, ``DATA`` or ``PAPER``.
    name : str
        The file's name in it.

    Returns
    -------
    Path
        The file, in the installed package or the checkout.

    Raises
    ------
    FileNotFoundError
        When the package has no such file (an incomplete installation).
    """
    path = Path(str(_folder(package).joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(f"{name} is not among {package}'s files: the installation "
                                "is incomplete. Fix: reinstall bayescluster.")
    return path


def shipped_names(package: str, suffix: str) -> list[str]:
    """The stems of a shipped package's files ending in ``suffix``, sorted.

    Parameters
    ----------
    package : str
        The shipped folder: ``MODELS``, ``DATA`` or ``PAPER``.
    suffix : str
        The ending to match and strip, e.g. ``".toml"``.

    Returns
    -------
    list of str
        The names without ``suffix``.
    """
    return sorted(p.name[: -len(suffix)] for p in _folder(package).iterdir()
                  if p.name.endswith(suffix))


DEFAULT_DATA = shipped(DATA, "firms.csv")
DEFAULT_SPEC = shipped(MODELS, "zinb_hier.toml")
