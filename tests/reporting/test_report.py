import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from bayescluster.analysis import plots
from bayescluster.cli import main
from bayescluster.inference.run import save
from bayescluster.reporting import document as doc
from bayescluster.study.report import SECTIONS, write_report

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic")


@pytest.fixture(scope="module")
def small_run(sampler_seed):
    """negbin_hier on the shipped data with chains far too short to pass the gates: 200
    draws reach a bulk ESS of 400 only if every parameter's draws are anticorrelated, which
    a hierarchy's SDs never are."""
    from bayescluster.core.resources import DEFAULT_DATA
    from bayescluster.inference.fit import fit
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import load

    spec = load_spec("negbin_hier")
    return fit(spec, load(DEFAULT_DATA, spec.roles), chains=2, draws=100, tune=150,
               seed=sampler_seed(5), quiet=True)


@pytest.fixture(scope="module")
def built(default_run, small_run, tmp_path_factory):
    """A report written by the CLI from two saved run directories alone."""
    root = tmp_path_factory.mktemp("report")
    save(default_run, root / "runs" / "zinb_hier")
    save(small_run, root / "runs" / "negbin_hier")
    out = root / "out"
    code = main(["report", str(root / "runs" / "zinb_hier"), str(root / "runs" / "negbin_hier"),
                 "--out", str(out), "--max-draws", "200"])
    assert code == 0
    return out


pytestmark = pytest.mark.sampling


def test_every_section_in_both_formats(built):
    markdown = (built / "report.md").read_text()
    page = (built / "index.html").read_text()
    for title in SECTIONS:
        assert f"\n## {title}\n" in markdown
        assert f"<h2>{title}</h2>" in page
    headings = re.findall(r"^## (.+)$", markdown, flags=re.M)
    assert headings == list(SECTIONS)
    assert re.search(r"H1 \(cluster participants.*\) is (supported|contradicted|not settled)",
                     markdown)
    assert re.search(r"H2 \(participants working with a national university.*P\(\\> 0\)",
                     markdown)
    assert "bio − it, participant effect" in markdown
    assert "\n# Appendix\n" in markdown
    assert "loo\\_compare" not in markdown and (built / "tables" / "loo_compare.csv").exists()


def test_figures_are_files_beside_markdown_and_embedded_in_html(built):
    markdown = (built / "report.md").read_text()
    page = (built / "index.html").read_text()
    linked = re.findall(r"!\[(?:\\.|[^\]\\])*\]\(([^)]+\.png)\)", markdown)
    assert len(linked) >= 6
    for name in linked:
        assert (built / name).read_bytes().startswith(doc.PNG_MAGIC)
    assert page.count('src="data:image/png;base64,') == len(linked)
    assert "http://" not in page and "https://" not in page
    assert not list(built.rglob(".*"))


def test_failed_fit_is_shown_as_failed_at_the_top(built, small_run, default_run, gates_hold,
                                                  within):
    from bayescluster.inference.diagnostics import stored_gates

    gates = stored_gates(small_run.tree).set_index("gate")
    assert within("short run's min bulk ESS", gates.loc["min bulk ESS", "value"], upper=400)
    assert small_run.tree.attrs["status"] == "failed"
    assert gates_hold(default_run)
    markdown = (built / "report.md").read_text()
    top = markdown.split("## Data")[0]
    assert "> **PASSED:** zinb\\_hier: the fit passed every convergence gate." in top
    assert "> **ATTENTION:** negbin\\_hier: the fit FAILED the convergence gates" in top
    page = (built / "index.html").read_text()
    assert re.search(r'class="banner attention">negbin_hier: the fit FAILED', page)


def test_tables_match_the_run(built, default_run):
    fixed = pd.read_csv(built / "tables" / "fixed_effects.csv", index_col="term")
    assert fixed.loc["participant", "mean"] == pytest.approx(
        float(default_run.posterior["beta"].sel(coef="participant").mean()))
    compared = pd.read_csv(built / "tables" / "loo_compare.csv", index_col=0)
    assert set(compared.index) == {"zinb_hier", "negbin_hier"}
    assert compared["weight"].sum() == pytest.approx(1.0)


def _chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is missing: `make test` installs Debian's chromium package."
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True)


PROBE = ("<script>window.addEventListener('load',()=>{const p=document.createElement('pre');"
         "p.id='probe';const a=document.getElementById('appendix');p.textContent=JSON."
         "stringify({h:[...document.querySelectorAll('h2')].map(e=>e.textContent),"
         "first:document.querySelector('nav').nextElementSibling.id,"
         "img:[...document.images].map(i=>i.naturalWidth),"
         "appendix:a.getBoundingClientRect().top+scrollY,width:innerWidth});"
         "document.body.appendChild(p);});</script>")


def test_headless_chromium_shows_findings_first_and_every_section_and_image(built, tmp_path):
    """At 1,300 px wide: the findings come first after the banners, every section and figure
    is there, and the part before the appendix is under 4,000 px tall."""
    page = (built / "index.html").read_text()
    copy = tmp_path / "probe.html"
    copy.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = _chromium(tmp_path, "--window-size=1300,1000", "--dump-dom", copy.as_uri()).stdout
    found = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom).group(1))
    assert found["width"] == 1300
    assert found["h"] == list(SECTIONS) and found["first"] == "findings"
    assert page.index('class="banner') < page.index("<nav>") < page.index('id="findings"')
    assert len(found["img"]) == page.count("<img ") >= 8
    assert all(width > 0 for width in found["img"]), found["img"]
    assert 1000 < found["appendix"] < 4000, found["appendix"]
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1300,2400",
              (built / "index.html").as_uri())
    assert shot.read_bytes().startswith(doc.PNG_MAGIC) and shot.stat().st_size > 10_000


def test_the_report_prints_to_a_pdf(built, tmp_path):
    """Chromium's print (the print stylesheet): a PDF of a handful of A4 pages."""
    pdf = tmp_path / "report.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
              (built / "index.html").as_uri())
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert data.startswith(b"%PDF") and 4 <= pages <= 30, pages
    assert b"/MediaBox [0 0 594" in data or b"/MediaBox [0 0 595" in data  # A4: 595 x 842 pt


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])", text)]


def test_every_number_in_the_findings_comes_from_the_tables(built):
    """Each sentence's numbers are its findings.csv row, and that row is the source table's
    (rounded as printed: effects to 2 decimals, chances and shares to whole percents)."""
    markdown = (built / "report.md").read_text()
    summary = markdown.split("## Findings\n", 1)[1].split("\n## ", 1)[0]
    sentences = [line[2:] for line in summary.splitlines() if line.startswith("- ")]
    findings = pd.read_csv(built / "tables" / "findings.csv", index_col="key")
    assert len(sentences) == len(findings) >= 6
    ames = pd.read_csv(built / "tables" / "marginal_effects.csv").set_index(
        ["effect", "level", "group"])
    fixed = pd.read_csv(built / "tables" / "fixed_effects.csv", index_col="term")
    for sentence, (key, row) in zip(sentences, findings.iterrows(), strict=True):
        printed = _numbers(sentence.replace("\\", ""))
        for column in ("value", "lower", "upper"):
            if pd.notna(row[column]):
                assert round(row[column], 2) in printed or round(100 * row[column]) in \
                    printed, (key, column, sentence)
        if pd.notna(row["probability"]):
            percent = round(100 * round(row["probability"], 2))  # beyond: "over 99%"
            assert min(max(percent, 1), 99) in printed, (key, sentence)
        if row["source"] == "marginal_effects" and "*" not in row["row"]:
            source = ames.loc[tuple(row["row"].split(" | "))]
            assert row[["value", "lower", "upper"]].tolist() == pytest.approx(
                source[["median", "lower", "upper"]].tolist())
        if row["source"].startswith("domains_"):
            pair = pd.read_csv(built / "tables" / f"{row['source']}.csv", index_col="effect")
            assert row["probability"] == pytest.approx(pair.loc[row["row"], "p_a_gt_b"])
        if row.get("p_source") == "fixed_effects":
            assert row["probability"] == pytest.approx(fixed.loc[row["row"].split(" | ")[0],
                                                                 "p_gt_0"])
    by_domain = next(s for s in sentences if s.startswith("By domain"))
    for (_, level, group), r in ames.xs("participant", level="effect",
                                        drop_level=False).iterrows():
        if level == "domain":
            assert f"{group} {r['median']:+.2f} ({r['lower']:+.2f} to {r['upper']:+.2f})" \
                in by_domain
    loo = pd.read_csv(built / "tables" / "loo.csv", index_col="run")
    refit = loo["pareto_k_gt_0.7"] <= 10  # the report refits a run's flagged firms up to 10
    assert (loo["refitted"] == loo["pareto_k_gt_0.7"].where(refit, 0)).all()
    assert (loo["reliable"] == refit).all()
    said = "reliable" if loo.loc["zinb_hier", "reliable"] else "unreliable"
    assert f"leave-one-out cross-validation is {said}" in sentences[-1]


def test_long_tables_fold_with_their_csv_beside(built):
    page = (built / "index.html").read_text()
    markdown = (built / "report.md").read_text()
    clusters = pd.read_csv(built / "tables" / "cluster_effects.csv")
    assert len(clusters) > doc.FOLD_ROWS
    for text in (page, markdown):
        assert re.search(r"<details><summary>Cluster effects \(log scale\): 38 rows "
                         r'\(<a href="tables/cluster_effects.csv">CSV</a>\)</summary>', text)
    assert page.count("<details>") == page.count("</details>") >= 5
    appendix = page.index('id="appendix"')
    assert page.index('id="data"') > appendix and page.index('id="clusters"') < appendix


def test_a_failing_figure_fails_the_report_and_writes_nothing(default_run, tmp_path,
                                                              monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("no data to plot")

    monkeypatch.setattr(plots, "effects_plot", broken)
    with pytest.raises(doc.ReportError, match=r"figure 'marginal_effects'.*no data to plot"):
        write_report(default_run, tmp_path / "r", max_draws=20)
    assert not (tmp_path / "r").exists()


def test_unknown_domain_pair_is_a_clear_error(default_run, tmp_path):
    with pytest.raises(doc.ReportError, match="the run's domains are bio, energy, it"):
        write_report(default_run, tmp_path / "r", domains=("bio", "biotech"))


def test_user_strings_are_escaped():
    evil = "<script>alert('x')</script> | *bold* [link](http://e)"
    frame = pd.DataFrame({evil: [1.0]}, index=pd.Index([evil], name="cluster"))
    document = doc.Document(evil, [doc.Banner(evil, False)], [doc.Section(evil, [
        doc.Text(evil), doc.Table(frame, "t", caption=evil), doc.Code(evil + "\n```\n")])])
    page = doc.render_html(document)
    assert "<script>" not in page and "&lt;script&gt;" in page
    markdown = doc.render_markdown(document)
    prose, fenced = markdown.split("````\n", 1)  # code is literal inside its fence
    assert "<script>" not in prose and "\\<script\\>" in prose
    assert fenced.endswith("```\n````\n")
    table_lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 1 for line in table_lines)  # the pipe did not split cells


SINGLE_LEVEL = [s for s in SECTIONS if s not in ("Domains", "Clusters")]


def test_prior_only_single_level_run_still_gets_every_section(tmp_path):
    from bayescluster.core.resources import DEFAULT_DATA
    from bayescluster.inference.fit import fit
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import load

    spec = load_spec("paper_m1")
    run = fit(spec, load(DEFAULT_DATA, spec.roles), prior_only=True, draws=200, quiet=True)
    markdown = write_report(run, tmp_path / "r")["markdown"].read_text()
    # a model without group effects has no Domains or Clusters section to fill
    assert re.findall(r"^## (.+)$", markdown, flags=re.M) == SINGLE_LEVEL
    assert "> **ATTENTION:** paper\\_m1: prior-only run" in markdown
    assert "Prior-only run: no posterior." in markdown
    assert "Hanging rootogram (prior predictive)" in markdown
    assert "32 firms dropped" in markdown


def test_a_fitted_single_level_run_gets_findings_without_domains(tmp_path, sampler_seed):
    from bayescluster.core.resources import DEFAULT_DATA
    from bayescluster.inference.fit import fit
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import load

    spec = load_spec("paper_m1")
    run = fit(spec, load(DEFAULT_DATA, spec.roles), chains=1, draws=100, tune=100,
              seed=sampler_seed(2), quiet=True)
    markdown = write_report(run, tmp_path / "r", max_draws=100)["markdown"].read_text()
    findings = markdown.split("## Findings\n", 1)[1].split("\n## ", 1)[0]
    assert findings.startswith("\n- Joining a cluster project (the paper's H1: ")
    assert "By domain" not in findings and "clusters" not in findings
    assert re.findall(r"^## (.+)$", markdown, flags=re.M) == SINGLE_LEVEL
