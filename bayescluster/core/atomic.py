"""Atomic writes: a temp file beside the target, then a rename; never a half-written file."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PENDING: set[str] = set()  # temp files of writes under way in this process


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it onto ``path`` on success.

    The temp file's name carries the writer's process id, so the next write of ``path``
    removes what a killed writer left behind.

    Parameters
    ----------
    path : str or Path
        The file to write. Its directory is created if needed.

    Yields
    ------
    Path
        A temporary file in the same directory, removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.{os.getpid()}.",
                               suffix=path.suffix + ".tmp")
    os.close(fd)
    _PENDING.add(tmp)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # the user's umask, not mkstemp's private 0600
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        _PENDING.discard(tmp)


def remove_pending() -> None:
    """Remove the temp files of every write under way, for a process about to exit at once."""
    for tmp in list(_PENDING):
        Path(tmp).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _clean_leftovers(path: Path) -> None:
    """Remove temp files of ``path`` left by a writer that was killed (its process is gone)."""
    start = len(path.stem) + 2
    for old in path.parent.glob(f".{path.stem}.*{path.suffix}.tmp"):
        pid = old.name[start:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            old.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path.

    Parameters
    ----------
    path : str or Path
        The file to write (its directory is created if needed).
    text : str
        The content, written as given (no newline translation).

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, newline="")
    return Path(path)
