"""The bucket's layout: every key and prefix, for the job and for its IAM policy, from one place."""

from datetime import UTC, datetime, timedelta

import pytest

from rollwise.runs.layout import Layout
from rollwise.windows import Window, window_of

W = window_of(datetime(2024, 1, 15, 13, 3, tzinfo=UTC), timedelta(minutes=5))


def test_the_default_layout():
    layout = Layout.under("runs")
    assert (layout.root, layout.raw, layout.archive, layout.quarantine, layout.records) == (
        "runs/",
        "runs/raw/",
        "runs/archive/",
        "runs/quarantine/",
        "runs/records/",
    )
    assert layout.aggregate_key(W) == "runs/20240115t1305Z.json"
    assert layout.archived_key("runs/raw/x/y.json") == "runs/archive/x/y.json"
    assert layout.quarantined_key("runs/raw/a.json") == "runs/quarantine/a.json"
    assert layout.note_key("runs/raw/a.json") == "runs/quarantine/a.json.error.json"
    assert layout.is_note("runs/quarantine/a.json.error.json") and not layout.is_note("runs/quarantine/a.json")
    assert layout.bundle_key(W, "abc") == "runs/archive/bundles/20240115t1305Z-abc.jsonl.gz"
    with pytest.raises(ValueError, match="is not under 'runs/raw/'"):
        layout.archived_key("elsewhere/a.json")


@pytest.mark.parametrize("stamp", ["20240115t1305Z", "20240115T1305Z", "20240115t1305Z.json", " 20240115t1305Z "])
def test_a_typed_stamp_names_its_aggregate(stamp):
    assert Layout.under("runs").aggregate_key_of(stamp) == "runs/20240115t1305Z.json"


@pytest.mark.parametrize("stamp", ["2024-01-15", "20240115t13Z", "runs", ""])
def test_a_bad_stamp_is_refused(stamp):
    with pytest.raises(ValueError, match="is not a window stamp like 20240115t1305Z"):
        Layout.under("runs").aggregate_key_of(stamp)


def test_what_counts_as_input_when_producers_write_into_the_root():
    layout = Layout.under("runs", raw="runs/")
    assert layout.lists_one_level()
    assert layout.is_input("runs/20240115t1301Z_a.json")
    for key in (
        "runs/20240115t1305Z.json",
        "runs/20240115T1305Z.json",
        "runs/archive/x.json",
        "runs/quarantine/x.json",
        "runs/records/dt=2024-01-15/x.jsonl.gz",
        "runs/windows/dt=2024-01-15/20240115t1305Z.json",
        "runs/.rollwise-locks/x.lock",
        "other/x.json",
    ):
        assert not layout.is_input(key), key
    assert layout.is_aggregate("runs/20240115t1305Z.json") and not layout.is_aggregate("runs/raw/20240115t1305Z.json")


def test_iam_prefixes_and_patterns_follow_the_layout():
    assert Layout.under("runs").listed_prefixes() == ["runs/", "runs/raw/", "runs/records/*", "runs/windows/*"]
    assert Layout.under("results", raw="incoming").listed_prefixes() == ["incoming/", "results/", "results/records/*", "results/windows/*"]
    patterns = Layout.under("results", raw="incoming").object_patterns()
    assert patterns == {
        "read": ["incoming/*", "results/????????t????Z.json", "results/archive/*", "results/records/*", "results/windows/*"],
        "write": ["results/????????t????Z.json", "results/archive/*", "results/quarantine/*", "results/records/*", "results/windows/*"],
        "delete": ["incoming/*"],
    }
    assert Layout.under("").listed_prefixes() == ["", "raw/", "records/*", "windows/*"]
    assert Layout.under("").aggregate_key(W) == "20240115t1305Z.json"


def test_sql_outputs_are_partitioned_by_the_day_their_window_starts():
    layout = Layout.under("runs")
    last = Window(datetime(2024, 1, 15, 23, 55, tzinfo=UTC), datetime(2024, 1, 16, tzinfo=UTC))
    assert layout.records_key(last, "ab12") == "runs/records/dt=2024-01-15/20240116t0000Z-ab12.jsonl.gz"
    assert layout.window_row_key(last) == "runs/windows/dt=2024-01-15/20240116t0000Z.json"
