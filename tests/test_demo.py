"""The README's first command: the demo on the embedded default, end to end."""

import re

from typer.testing import CliRunner

from rollwise.cli import app


def test_the_demo_runs_both_jobs_and_writes_the_report(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "ran the nightly job 31 times" in result.output
    m = re.search(r"merged (\d+) files into (\d+) window aggregates, archived (\d+), quarantined (\d+)", result.output)
    assert m and m.groups() == ("476", "12", "476", "4")
    page = (tmp_path / "report.html").read_text()
    assert "Tenant tenant-002" in page and "Top opportunities" in page
    assert (tmp_path / "summaries.db").exists() and not list((tmp_path / "runs-bucket" / "runs" / "raw").iterdir())
