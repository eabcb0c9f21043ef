import pytest

from bayescluster.report import render, write_report

pytestmark = pytest.mark.sampling


def test_report_has_every_section_and_the_verdict(default_run, tmp_path):
    path = write_report(default_run, tmp_path / "r")
    text = path.read_text()
    assert text == render(default_run)
    for heading in ("## Data", "## Model", "## Diagnostics", "## Fixed effects",
                    "## Group-level parameters", "## Domains"):
        assert heading in text
    assert "**Fit status: PASSED**" in text
    assert "| participant:national:sameregion |" in text
    assert not list((tmp_path / "r").glob(".*"))
