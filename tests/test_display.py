from rollwise import display


def test_missing_figures_are_a_dash_not_none(capsys):
    display.summary_table(
        [
            {
                "period_start": "2024-01-01",
                "zone": "UTC",
                "owner_id": "__tenant__",
                "metric_type": "m",
                "submission_count": 2,
                "success_count": 0,
                "failure_count": 0,
                "cancelled_count": 0,
                "timeout_count": 0,
                "throttled_count": 0,
                "rejected_count": 0,
                "total_profiles": 0,
                "p50_duration_ms": None,
                "p95_duration_ms": None,
            }
        ],
        "t daily",
    )
    out = capsys.readouterr().out
    assert "None" not in out and out.count(display.MISSING) == 2


def test_results_print_readable_lines_or_one_json_document(capsys):
    body = {"windows": ["runs/a.json"], "failed_operations": [{"key": "k", "operation": "copy", "error": "e"}], "files": 1}
    display.result(body, as_json=False)
    assert capsys.readouterr().out.splitlines() == [
        "windows: 1",
        "  runs/a.json",
        "failed_operations: 1",
        "  key=k  operation=copy  error=e",
        "files: 1",
    ]
    display.result(body, as_json=True)
    assert capsys.readouterr().out == '{"windows":["runs/a.json"],"failed_operations":[{"key":"k","operation":"copy","error":"e"}],"files":1}\n'
