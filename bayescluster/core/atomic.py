"""Atomic writes and exclusive outputs.

A file is written beside its target and renamed onto it, so no half-written file is ever
seen; an output is held by one writing process at a time.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PENDING: set[str] = set()  # temp files of writes under way in this process


LOCK = ".bayescluster.lock"  # in an output folder while a process writes into it


@contextmanager
def atomic_path(path: str | Path, *, replace: bool = True) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it onto ``path`` on success.

    The temp file's name carries the writer's process id, so the next write of ``path``
    removes what a killed writer left behind.

    Parameters
    ----------
    path : str or Path
        The file to write. Its directory is created if needed.
    replace : bool
        Whether an existing ``path`` is replaced; if not, the file appears only if no
        other writer made it first (a hard link, atomic), else FileExistsError.

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
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
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


def _holder(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextmanager
def exclusive(folder: str | Path, name: str = LOCK) -> Iterator[None]:
    """Hold ``folder`` (created if missing) for this process while the block runs.

    The hold is a lock file ``name`` in ``folder``, made whole at once (written aside,
    then hard-linked), holding this process's id; a lock whose process is gone is taken
    over. A folder this call created and the block left empty is removed on exit.

    Parameters
    ----------
    folder : str or Path
        The folder written into.
    name : str
        The lock file's name (one per output when several share a folder).

    Yields
    ------
    None

    Raises
    ------
    FileExistsError
        When another running process holds it; ``args[0]`` is that process's id.
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".lock.{os.getpid()}.")
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    try:
        for _ in range(3):
            try:
                os.link(tmp, lock)
                break
            except FileExistsError:
                pid = _holder(lock)
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise FileExistsError(pid) from None
                lock.unlink(missing_ok=True)  # left by a process that is gone
        else:
            raise FileExistsError(_holder(lock))
    finally:
        os.unlink(tmp)
    _PENDING.add(str(lock))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        _PENDING.discard(str(lock))
        if created:
            try:
                folder.rmdir()
            except OSError:  # the block wrote into it
                pass
