"""Atomic writes and exclusive outputs.

A file is written beside its target and renamed onto it, so no half-written file is ever
seen; an output is held by one writing process at a time.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
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
    """Undo the writes under way, for a process about to exit at once.

    The temp files of every write, and what it added to the outputs it holds
    (:func:`exclusive`), are removed.
    """
    for cleanup in list(_ABORT.values()):
        cleanup()
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


def _started(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot; "" off Linux).

    A lock is not taken for a live process that merely reuses a dead writer's id.
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _holder(lock: Path) -> tuple[int, str] | None:
    try:
        pid, _, started = lock.read_text().strip().partition(" ")
    except OSError:
        return None
    return (int(pid), started) if pid.isdigit() else None


def _held_by_another(lock: Path) -> int | None:
    """The id of the live process that holds ``lock``, or None if it is free or stale."""
    holder = _holder(lock)
    if holder is None or holder[0] == os.getpid() or not _alive(holder[0]):
        return None
    return holder[0] if not holder[1] or _started(holder[0]) == holder[1] else None


def _new_entries(folder: Path, before: set[str]) -> None:
    """Remove what was added to ``folder`` since ``before`` (files, and folders emptied)."""
    for entry in sorted(set(os.listdir(folder)) - before, reverse=True):
        path = folder / entry
        if path.is_dir() and not path.is_symlink():
            for inner in sorted(path.rglob("*"), reverse=True):
                inner.rmdir() if inner.is_dir() else inner.unlink(missing_ok=True)
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


_ABORT: dict[str, Callable[[], None]] = {}  # held outputs' locks -> undo what was added


@contextmanager
def exclusive(folder: str | Path, name: str = LOCK, *, only: str | None = None
              ) -> Iterator[None]:
    """Hold ``folder`` (created if missing) for this process while the block runs.

    The hold is a lock file ``name`` in ``folder``, made whole at once (written aside,
    then hard-linked), holding this process's id and start time; a lock whose process is
    gone (or whose id now belongs to another process) is taken over. If the block raises,
    or the process is interrupted (:func:`remove_pending`), what it added to ``folder`` is
    removed, so a failed command leaves the folder as it found it; a folder this call
    created and the block left empty is removed on exit.

    Parameters
    ----------
    folder : str or Path
        The folder written into.
    name : str
        The lock file's name (one per output when several share a folder).
    only : str, optional
        The one entry of ``folder`` the block writes (a file output): only it is removed
        on failure, not what others add to a shared folder.

    Yields
    ------
    None

    Raises
    ------
    FileExistsError
        When another running process holds it; ``args[0]`` is that process's id and
        ``args[1]`` the lock file's path.
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".lock.{os.getpid()}.")
    os.write(fd, f"{os.getpid()} {_started(os.getpid())}".encode())
    os.close(fd)
    try:
        for _ in range(3):
            try:
                os.link(tmp, lock)
                break
            except FileExistsError:
                pid = _held_by_another(lock)
                if pid is not None:
                    raise FileExistsError(pid, str(lock)) from None
                lock.unlink(missing_ok=True)  # left by a process that is gone
        else:
            raise FileExistsError(_holder(lock), str(lock))
    finally:
        os.unlink(tmp)
    if only is None:
        before = set(os.listdir(folder))

        def cleanup() -> None:
            _new_entries(folder, before)
    else:
        existed = (folder / only).exists()

        def cleanup() -> None:
            if not existed:
                (folder / only).unlink(missing_ok=True)
    _PENDING.add(str(lock))
    _ABORT[str(lock)] = cleanup
    try:
        yield
    except BaseException:
        cleanup()
        raise
    finally:
        _ABORT.pop(str(lock), None)
        lock.unlink(missing_ok=True)
        _PENDING.discard(str(lock))
        if created:
            try:
                folder.rmdir()
            except OSError:  # the block wrote into it
                pass
