"""The documentation site as a reader meets it: ``make docs`` (which ``make test`` runs first)
built ``docs/_build/html``; every internal link and image of every page resolves, and headless
Chromium opens the index, the gallery and the API reference and loads every image, the
notebooks' figures included."""

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "docs" / "_build" / "html"
GALLERY = ("quickstart", "own_grouped_table", "single_level", "bio_vs_it_report",
           "prediction_counterfactuals")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic", "--allow-file-access-from-files",
                  "--virtual-time-budget=10000")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text())
    return parser


@pytest.fixture(scope="module")
def site() -> Path:
    assert (SITE / "index.html").is_file(), "the site is not built: run `make docs`"
    return SITE


def test_every_internal_link_and_image_of_every_page_resolves(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    ids = {page: _parsed(page) for page in pages}
    broken = []
    for page, found in ids.items():
        for target in found.links + found.images:
            parts = urlsplit(target)
            if parts.scheme or target.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not path.exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
            elif parts.fragment and path.suffix == ".html" and path in ids \
                    and parts.fragment not in ids[path].ids:
                broken.append(f"{page.relative_to(site)} -> {target} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def test_every_page_the_issue_names_is_there(site):
    for page in ("install", "quickstart", "guide/index", "study/index", "reference/api",
                 "reference/cli", "reference/spec", "results", *(f"gallery/{g}" for g in GALLERY)):
        assert (site / f"{page}.html").is_file(), page
    api = (site / "reference" / "api.html").read_text()
    assert 'id="bayescluster.fit"' in api and "Examples" in api
    cli = (site / "reference" / "cli.html").read_text()
    assert "--influence-refits" in cli and "sensitivity" in cli
    spec = re.sub(r"<[^>]+>", "", (site / "reference" / "spec.html").read_text())
    assert "pool_by_domain" in spec and "gamma(alpha=2, beta=5)" in spec


PROBE = ("<script>window.addEventListener('load',()=>setTimeout(()=>{const p=document."
         "createElement('pre');p.id='probe';p.textContent=JSON.stringify({img:[...document."
         "images].map(i=>[i.getAttribute('src'),i.naturalWidth]),title:document.title,"
         "sheets:document.styleSheets.length});document.body.appendChild(p);},500));</script>")


@pytest.mark.parametrize("page", ["index.html", "gallery/index.html", "reference/api.html",
                                  *(f"gallery/{g}.html" for g in GALLERY)])
def test_headless_chromium_renders_the_page_with_every_image(site, page, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is missing: `make test` installs Debian's chromium package."
    original = site / page
    probe = original.with_name(f"_probe_{original.name}")  # beside it: relative links hold
    probe.write_text(original.read_text().replace("</body>", PROBE + "</body>"))
    try:
        dom = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path}",
                              "--dump-dom", probe.as_uri()], capture_output=True, text=True,
                             timeout=120, check=True).stdout
    finally:
        probe.unlink()
    found = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1)
                       .replace("&quot;", '"').replace("&amp;", "&"))
    assert "bayescluster" in found["title"] and found["sheets"] >= 2, found
    missing = [src for src, width in found["img"] if width == 0]
    assert not missing, missing
    if page.startswith("gallery/") and page != "gallery/index.html":
        assert any("_images" in src for src, _ in found["img"]), "a notebook without a figure"


def test_help_shows_parameters_returns_and_an_example():
    text = subprocess.run([sys.executable, "-c", "import bayescluster as bc; help(bc.fit)"],
                          capture_output=True, text=True, env=os.environ | {"PAGER": "cat"},
                          check=True, timeout=120).stdout
    assert text.index("Parameters") < text.index("Returns") < text.index("Examples")
    assert ">>> run = bc.fit(" in text and "model : Spec, str or Path" in text
