"""The one TOML writer: a spec's raw tables back to text (``tomllib`` only reads).

Specs hold strings, booleans, numbers, lists of them and tables one level deep whose
values may be inline tables (priors); that is all :func:`dumps` writes.
"""

import math


def value(item: str | bool | int | float | list | tuple | dict) -> str:
    """One TOML value: a string, boolean, number, list or inline table.

    Parameters
    ----------
    item : str, bool, int, float, list, tuple or dict
        The value; lists, tuples and dicts of these (a dict becomes an inline table).
        Non-finite floats are written ``nan``, ``inf`` and ``-inf``.

    Returns
    -------
    str
        The value's TOML text.

    Raises
    ------
    TypeError
        For any other type.
    """
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return '"' + item.replace("\\", "\\\\").replace('"', '\\"').replace(
            "\n", "\\n") + '"'
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        return repr(item) if math.isfinite(item) else ("nan" if math.isnan(item) else
                                                      ("inf" if item > 0 else "-inf"))
    if isinstance(item, list | tuple):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"no TOML value for {type(item).__name__}")


def key(name: str) -> str:
    """A bare key where TOML allows one, else a quoted key.

    Parameters
    ----------
    name : str
        The key.

    Returns
    -------
    str
        ``name`` itself when it is ASCII letters, digits, ``-`` and ``_``; else quoted.
    """
    bare = name and all(c.isalnum() or c in "-_" for c in name) and name.isascii()
    return name if bare else value(name)


def dumps(raw: dict) -> str:
    """TOML text of ``raw``: its scalars first, then one ``[table]`` per dict.

    Parameters
    ----------
    raw : dict
        A spec's tables as ``tomllib`` reads them: top-level values, and tables one level
        deep.

    Returns
    -------
    str
        The TOML text, ending in a newline.
    """
    lines = [f"{key(k)} = {value(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for name, table in raw.items():
        if isinstance(table, dict):
            lines += ["", f"[{key(name)}]"]
            lines += [f"{key(k)} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"
