"""A report as data: sections of text, tables, figures and code.

It renders to self-contained HTML (figures embedded as base64 PNG) and to Markdown
(figures as PNG files beside it). Sections marked ``appendix`` follow the others under an
Appendix heading; tables longer than :data:`~bayescluster.reporting.document.FOLD_ROWS` rows are
folded (``<details>``)
with their CSV linked beside them. The HTML carries a print stylesheet, so a browser
prints it to a tidy PDF.

Everything is rendered in memory first, so a figure that fails stops the report before any
file is written; each file is then written atomically. User strings are escaped in both
formats.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bayescluster.core.atomic import atomic_path, write_text
from bayescluster.core.errors import ReportError

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FOLD_ROWS = 12
APPENDIX = "appendix"  # the HTML id of the Appendix heading


@dataclass(frozen=True)
class Text:
    """A paragraph (``strong``: shown in bold)."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """A table; ``name`` is its CSV file's name under ``tables/``.

    A table not ``shown`` is written as CSV only; ``fold`` (default: more than
    :data:`~bayescluster.reporting.document.FOLD_ROWS` rows) shows it folded, its CSV linked beside
    it.
    """

    frame: pd.DataFrame
    name: str
    digits: int = 3
    caption: str = ""
    shown: bool = True
    fold: bool | None = None

    @property
    def folded(self) -> bool:
        """Whether the table is shown folded."""
        return len(self.frame) > FOLD_ROWS if self.fold is None else self.fold


@dataclass(frozen=True)
class Figure:
    """A rendered figure (PNG bytes)."""

    name: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Code:
    """A preformatted block (a spec, formulas)."""

    text: str
    language: str = ""


@dataclass(frozen=True)
class Items:
    """A bulleted list of sentences."""

    texts: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """Blocks side by side in HTML (one after another in Markdown)."""

    blocks: tuple


@dataclass(frozen=True)
class Banner:
    """A pass (``ok``) or fail line at the top of the report."""

    text: str
    ok: bool


@dataclass
class Section:
    """A titled section of blocks; ``appendix`` sections follow the findings."""

    title: str
    blocks: list = field(default_factory=list)
    appendix: bool = False

    @property
    def anchor(self) -> str:
        """The section's HTML id and Markdown link target."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Document:
    """A whole report: title, banners, sections and footer."""

    title: str
    banners: list[Banner]
    sections: list[Section]
    footer: str = ""


def relabelled(sections: list[Section], relabel: Callable[[pd.DataFrame], pd.DataFrame]
               ) -> list[Section]:
    """``sections`` with every table's frame passed through ``relabel`` (names in words).

    Parameters
    ----------
    sections : list of Section
        The report's sections; they are not changed.
    relabel : callable
        A frame -> the frame with its names in the table's words, e.g.
        :meth:`~bayescluster.data.roles.Words.relabel`.

    Returns
    -------
    list of Section
        New sections, every :class:`Table` (also inside a :class:`Row`) relabelled, other
        blocks as they were.
    """
    def block(b):
        if isinstance(b, Table):
            return replace(b, frame=relabel(b.frame))
        if isinstance(b, Row):
            return Row(tuple(block(x) for x in b.blocks))
        return b
    return [Section(s.title, [block(b) for b in s.blocks], s.appendix) for s in sections]


def figure(name: str, caption: str, make: Callable[[], MplFigure]) -> Figure:
    """Render ``make()``'s matplotlib figure to PNG bytes.

    Any failure is a ReportError naming the figure.

    Parameters
    ----------
    name : str
        The figure's file name without suffix (``<name>.png``) and HTML id.
    caption : str
        The caption shown under it (and its alt text).
    make : callable
        Draws the figure when called with no arguments.

    Returns
    -------
    Figure
        The rendered figure, PNG at 110 dpi.

    Raises
    ------
    ReportError
        When ``make`` or the rendering fails, or the image is empty.
    """
    try:
        fig = make()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
    except Exception as err:  # noqa: BLE001 - any plotting failure fails the report
        raise ReportError(f"figure {name!r} ({caption}) failed: {type(err).__name__}: "
                          f"{err}. The report was not written.") from err
    png = buffer.getvalue()
    if not png.startswith(PNG_MAGIC) or len(png) < 100:
        raise ReportError(f"figure {name!r} rendered to an empty image. The report was not "
                          "written.")
    return Figure(name, caption, png)


def _cell(value, digits: int) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:.{digits}f}" if abs(value) < 1e6 else f"{value:.4g}"
    return str(value)


def _rows(frame: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        frame = frame.reset_index()
    head = [str(c) for c in frame.columns]
    return head, [[_cell(v, digits) for v in row] for row in frame.itertuples(index=False)]


# --- Markdown -------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Escape Markdown's special characters in user text.

    Parameters
    ----------
    text : str
        Any text (converted with ``str``).

    Returns
    -------
    str
        The text with each backslash, backtick, ``*``, ``_``, square and angle bracket,
        ``|`` and ``#`` preceded by a backslash.
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _md_table(table: Table, fold: bool = True) -> str:
    head, rows = _rows(table.frame, table.digits)
    lines = ["| " + " | ".join(map(md_escape, head)) + " |",
             "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    if fold and table.folded:
        return "\n".join([f"<details><summary>{html.escape(_fold_title(table, len(rows)))} "
                          f'(<a href="{_csv(table)}">CSV</a>)</summary>', "", *lines, "",
                          "</details>"])
    if table.caption:
        lines = [f"*{md_escape(table.caption)}*", "", *lines]
    return "\n".join(lines)


def _csv(table: Table) -> str:
    return f"tables/{table.name}.csv"


def _fold_title(table: Table, rows: int) -> str:
    return f"{table.caption or table.name}: {rows} rows"


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an escaped Markdown table.

    Parameters
    ----------
    frame : DataFrame
        The table; its index becomes the first columns unless it is an unnamed
        ``RangeIndex``.
    digits : int
        Decimals of float cells.

    Returns
    -------
    str
        The Markdown table, never folded.
    """
    return _md_table(Table(frame, "table", digits), fold=False)


def _md_code(code: Code) -> str:
    longest = max((len(m) for m in re.findall(r"`+", code.text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{code.language}\n{code.text.rstrip()}\n{fence}"


def _md_block(block) -> str:
    if isinstance(block, Text):
        text = md_escape(block.text)
        return f"**{text}**" if block.strong else text
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, Figure):
        return f"![{md_escape(block.caption)}]({block.name}.png)\n\n*{md_escape(block.caption)}*"
    if isinstance(block, Code):
        return _md_code(block)
    if isinstance(block, Items):
        return "\n".join(f"- {md_escape(t)}" for t in block.texts)
    if isinstance(block, Row):
        return "\n\n".join(_md_block(b) for b in block.blocks)
    raise ReportError(f"unknown block {type(block).__name__}")


def _shown(blocks: list) -> list:
    return [b for b in blocks if getattr(b, "shown", True)]


def _parts(doc: Document) -> tuple[list[Section], list[Section]]:
    return ([s for s in doc.sections if not s.appendix],
            [s for s in doc.sections if s.appendix])


def render_markdown(doc: Document) -> str:
    """The report as Markdown (figures referenced as PNG files).

    Parameters
    ----------
    doc : Document
        The report.

    Returns
    -------
    str
        The Markdown text: title, banners, contents, sections (appendix last), footer.
    """
    parts = [f"# {md_escape(doc.title)}", ""]
    for banner in doc.banners:
        mark = "PASSED" if banner.ok else "ATTENTION"
        parts += [f"> **{mark}:** {md_escape(banner.text)}", ""]
    main, appendix = _parts(doc)
    links = " · ".join(f"[{md_escape(s.title)}](#{s.anchor})" for s in main)
    if appendix:
        links += " · [Appendix](#appendix): " + " · ".join(
            f"[{md_escape(s.title)}](#{s.anchor})" for s in appendix)
    parts += ["Contents: " + links, ""]
    for section in main + appendix:
        if section is (appendix[0] if appendix else None):
            parts += ["# Appendix", ""]
        parts += [f"## {md_escape(section.title)}", ""]
        for block in _shown(section.blocks):
            parts += [_md_block(block), ""]
    if doc.footer:
        parts += ["---", "", md_escape(doc.footer), ""]
    return "\n".join(parts)


# --- HTML -----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.text,th:first-child{text-align:left}
caption{caption-side:top;text-align:left;font-style:italic;padding:.3em 0}
figure{margin:1em 0}figure img{max-width:100%;height:auto}
figcaption{font-style:italic;font-size:.9em;color:#555}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
.banner{padding:.7em 1em;margin:.5em 0;border-radius:4px;font-weight:600}
.ok{background:#e4f4e4;border:1px solid #7c7}.attention{background:#fde8e8;border:1px solid #d66}
nav a{margin-right:.8em}nav .group{font-weight:600;margin-right:.5em}
footer{margin-top:3em;font-size:.8em;color:#666}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1.2em;
align-items:start}
.row>figure,.row>table,.row>details{margin-top:0}
ul.findings li{margin:.35em 0}
details{margin:.6em 0}details>summary{cursor:pointer;color:#235;font-size:.9em}
h1.appendix{margin-top:2.5em;border-top:3px double #999;padding-top:.6em}
@media print{
@page{size:A4;margin:14mm 12mm}
body{max-width:none;margin:0;font-size:10pt}
nav,details>summary a{display:none}
h1.appendix{break-before:page}
h2{break-after:avoid}
figure,table,pre,.banner,li{break-inside:avoid}
figure img{max-height:120mm;width:auto;max-width:100%}
.row{grid-template-columns:1fr 1fr}
}
"""


_NUMBER = re.compile(r"[-+]?[0-9.,]+(e[-+]?[0-9]+)?")


def _html_table(table: Table) -> str:
    head, rows = _rows(table.frame, table.digits)
    esc = html.escape
    out = ["<table>"]
    fold = table.folded
    if fold:
        out = [f"<details><summary>{esc(_fold_title(table, len(rows)))} "
               f'(<a href="{esc(_csv(table))}">CSV</a>)</summary>', "<table>"]
    elif table.caption:
        out.append(f"<caption>{esc(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" if _NUMBER.fullmatch(c) or not c
                             else f'<td class="text">{esc(c)}</td>' for c in row) + "</tr>"
            for row in rows]
    out.append("</tbody></table>" + ("</details>" if fold else ""))
    return "\n".join(out)


def _html_block(block) -> str:
    esc = html.escape
    if isinstance(block, Text):
        inner = f"<strong>{esc(block.text)}</strong>" if block.strong else esc(block.text)
        return f"<p>{inner}</p>"
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure id="fig-{esc(block.name)}"><img alt="{esc(block.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{esc(block.caption)}'
                "</figcaption></figure>")
    if isinstance(block, Code):
        return f"<pre><code>{esc(block.text.rstrip())}</code></pre>"
    if isinstance(block, Items):
        return ('<ul class="findings">' + "".join(f"<li>{esc(t)}</li>" for t in block.texts)
                + "</ul>")
    if isinstance(block, Row):
        return '<div class="row">' + "".join(_html_block(b) for b in block.blocks) + "</div>"
    raise ReportError(f"unknown block {type(block).__name__}")


def render_html(doc: Document) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    doc : Document
        The report.

    Returns
    -------
    str
        The HTML page, figures embedded as base64 PNG, with its print stylesheet.
    """
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(doc.title)}</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>{esc(doc.title)}</h1>"]
    for banner in doc.banners:
        cls = "ok" if banner.ok else "attention"
        parts.append(f'<div class="banner {cls}">{esc(banner.text)}</div>')
    main, appendix = _parts(doc)
    nav = "".join(f'<a href="#{s.anchor}">{esc(s.title)}</a>' for s in main)
    if appendix:
        nav += (f'<br><a class="group" href="#{APPENDIX}">Appendix:</a>'
                + "".join(f'<a href="#{s.anchor}">{esc(s.title)}</a>' for s in appendix))
    parts.append(f"<nav>{nav}</nav>")
    for section in main + appendix:
        if section is (appendix[0] if appendix else None):
            parts.append(f'<h1 class="appendix" id="{APPENDIX}">Appendix</h1>')
        parts.append(f'<section id="{section.anchor}"><h2>{esc(section.title)}</h2>')
        parts += [_html_block(b) for b in _shown(section.blocks)]
        parts.append("</section>")
    if doc.footer:
        parts.append(f"<footer>{esc(doc.footer)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(doc: Document, out_dir: str | Path) -> dict[str, Path]:
    """Write ``index.html``, ``report.md``, one PNG per figure and one CSV per table.

    Parameters
    ----------
    doc : Document
        The report.
    out_dir : str or Path
        The report's directory, created if missing; CSVs go to its ``tables/``.

    Returns
    -------
    dict of str to Path
        ``markdown`` and ``html``: the paths of ``report.md`` and ``index.html``.

    Raises
    ------
    ReportError
        When ``out_dir`` is a file.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} is a file, not a directory. Fix: give the report a "
                          "directory (it is created if missing).")
    markdown, page = render_markdown(doc), render_html(doc)
    blocks = [b for s in doc.sections for b in s.blocks]
    blocks += [b for row in blocks if isinstance(row, Row) for b in row.blocks]
    out_dir.mkdir(parents=True, exist_ok=True)
    for block in blocks:
        if isinstance(block, Figure):
            with atomic_path(out_dir / f"{block.name}.png") as tmp:
                tmp.write_bytes(block.png)
        elif isinstance(block, Table):
            with atomic_path(out_dir / "tables" / f"{block.name}.csv") as tmp:
                block.frame.to_csv(tmp)
    return {"markdown": write_text(out_dir / "report.md", markdown),
            "html": write_text(out_dir / "index.html", page)}
