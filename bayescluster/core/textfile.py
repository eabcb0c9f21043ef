"""Input files read as bytes first: a file that is not UTF-8 text is refused by name."""

from pathlib import Path

from bayescluster.core.errors import BayesclusterError

_MAGIC = (  # a file's first bytes -> what it is, for the message
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or .ods workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an Office document (an old Excel .xls workbook?)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x89HDF", "an HDF5 / netCDF-4 file (a run's run.nc?)"),
    (b"CDF\x01", "a netCDF file"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "a program"),
    (b"\xff\xfe", "UTF-16 text (a spreadsheet's 'Unicode text')"),
    (b"\xfe\xff", "UTF-16 text"),
)


def read_text(path: str | Path, *, kind: str, fix: str,
              error: type[BayesclusterError] = BayesclusterError) -> str:
    """The text of ``path``, refusing a missing file, a folder, or bytes that are not text.

    A UTF-8 byte-order mark is dropped.

    Parameters
    ----------
    path : str or Path
        The file.
    kind : str
        What the file should be, for the message (``"a CSV table"``).
    fix : str
        How to write a file that is read, ending the message (``"save it as CSV"``).
    error : type
        The :class:`~bayescluster.BayesclusterError` subclass raised.

    Returns
    -------
    str
        The decoded text.

    Raises
    ------
    BayesclusterError
        ``error``, naming the file, what was found (the byte, its line and column when it
        is not UTF-8) and ``fix``.
    """
    path = Path(path)
    shown = repr(str(path))
    if not path.exists():
        raise error(f"file {shown} does not exist. Fix: give the path of {kind}.")
    if path.is_dir():
        raise error(f"{shown} is a directory, not {kind}. Fix: give the path of {kind}.")
    try:
        raw = path.read_bytes()
    except OSError as problem:
        raise error(f"file {shown} cannot be read ({problem.strerror}). Fix: check its "
                    "permissions, or copy it somewhere readable.") from None
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise error(f"file {shown} is {what}, not {kind}. Fix: {fix}.")
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise error(f"file {shown} is binary, not {kind} (a NUL byte on line {line}; "
                    f"UTF-16 text has them too). Fix: {fix}.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        start = problem.start
        line = raw.count(b"\n", 0, start) + 1
        column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        raise error(f"file {shown} is not UTF-8 text: byte 0x{raw[start]:02x} on line {line}, "
                    f"column {column} (a Latin-1 or Shift-JIS file, or not text at all). "
                    f"Fix: {fix}.") from None
