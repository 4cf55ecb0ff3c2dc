"""``rollwise runs merge`` and ``rollwise runs show`` on both stores."""

import orjson
from runs_helpers import keys, write_small_run
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.objects import store_from_url

runner = CliRunner()


def test_merge_dry_run_then_merge_then_show(runs_url):
    good, bad = write_small_run(runs_url)
    dry = runner.invoke(app, ["runs", "merge", "--bucket", runs_url, "--at", "2024-01-15T13:20:00Z", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    planned = orjson.loads(dry.output)["dry_run"]
    assert [(p["aggregate"], p["files"]) for p in planned] == [("runs/20240115t1305Z.json", 4), ("runs/20240115t1310Z.json", 3)]
    assert set(keys(store_from_url(runs_url), "runs")) == good | bad

    done = runner.invoke(app, ["runs", "merge", "--bucket", runs_url, "--at", "2024-01-15T13:20:00Z", "--json", "--archive-mode", "bundle"])
    assert done.exit_code == 0, done.output
    body = orjson.loads(done.output)
    assert (body["files_processed"], body["files_quarantined"], body["files_archived"]) == (6, 1, 6)

    one = runner.invoke(app, ["runs", "show", "20240115t1305Z", "--bucket", runs_url, "--json"])
    doc = orjson.loads(one.output)
    assert doc["stats"]["files"] == 3 and "merge_state" not in doc
    day = runner.invoke(app, ["runs", "show", "--date", "20240115", "--bucket", runs_url, "--json"])
    assert [orjson.loads(line)["window_end"] for line in day.output.splitlines()] == ["2024-01-15T13:05:00Z", "2024-01-15T13:10:00Z"]
    table = runner.invoke(app, ["runs", "show", "--date", "20240115", "--bucket", runs_url])
    assert "2024-01-15T13:10:00Z" in table.output and "X1 (0.99)" in table.output


def test_bad_arguments(tmp_path):
    url = f"file://{tmp_path}"
    assert "give either a WINDOW" in runner.invoke(app, ["runs", "show", "--bucket", url]).output
    assert "no aggregate runs/20240115t1305Z.json" in runner.invoke(app, ["runs", "show", "20240115t1305Z", "--bucket", url]).output
    assert "archive mode must be one of" in runner.invoke(app, ["runs", "merge", "--bucket", url, "--archive-mode", "zip"]).output
    assert "not supported" in runner.invoke(app, ["runs", "merge", "--bucket", "ftp://x"]).output
