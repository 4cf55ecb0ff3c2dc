"""The pure plan of windows from listed metadata."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rollwise.runs.layout import Layout
from rollwise.runs.plan import plan_windows

UTC = UTC
FIVE, GRACE = timedelta(minutes=5), timedelta(seconds=60)
AT = datetime(2024, 1, 15, 13, 20, tzinfo=UTC)
LAYOUT = Layout.under("runs")


@dataclass
class Meta:
    key: str
    e_tag: str = "e"
    size: int = 10
    last_modified: datetime = datetime(2024, 1, 15, 13, 7, tzinfo=UTC)


def plan(keys, ordered=True, at=AT, listing=None):
    metas = [Meta(k) for k in keys]
    return [(w.window.name, [f.key for f in w.files]) for w in plan_windows(listing or metas, LAYOUT, at, FIVE, GRACE, ordered)]


def test_closed_windows_only_in_time_order_with_unstamped_files_by_last_modified():
    keys = [
        "runs/raw/20240115t1301Z_a.json",
        "runs/raw/20240115t1304Z_b.json",
        "runs/raw/20240115t1312Z_c.json",
        "runs/raw/20240115t1319Z_open.json",
        "runs/raw/nostamp.json",
        "runs/20240115t1305Z.json",
        "runs/archive/x.json",
    ]
    assert plan(keys) == [
        ("20240115t1305Z", ["runs/raw/20240115t1301Z_a.json", "runs/raw/20240115t1304Z_b.json"]),
        ("20240115t1310Z", ["runs/raw/nostamp.json"]),
        ("20240115t1315Z", ["runs/raw/20240115t1312Z_c.json"]),
    ]


def test_an_ordered_listing_hands_out_a_window_as_soon_as_the_listing_passed_it():
    handed = []

    def listing():
        for k in ["runs/raw/20240115t1301Z_a.json", "runs/raw/20240115t1306Z_b.json", "runs/raw/20240115t1311Z_c.json"]:
            handed.append(k)
            yield Meta(k)

    it = plan_windows(listing(), LAYOUT, AT, FIVE, GRACE, ordered=True)
    first = next(it)
    assert first.window.name == "20240115t1305Z" and handed == ["runs/raw/20240115t1301Z_a.json", "runs/raw/20240115t1306Z_b.json"]


def test_an_unordered_listing_is_read_whole():
    keys = ["runs/raw/20240115t1306Z_b.json", "runs/raw/20240115t1301Z_a.json", "runs/raw/20240115t1307Z_c.json"]
    assert plan(keys, ordered=False) == [
        ("20240115t1305Z", ["runs/raw/20240115t1301Z_a.json"]),
        ("20240115t1310Z", ["runs/raw/20240115t1306Z_b.json", "runs/raw/20240115t1307Z_c.json"]),
    ]


def test_the_grace_keeps_a_just_ended_window_open():
    keys = ["runs/raw/20240115t1316Z_a.json"]
    assert plan(keys, at=datetime(2024, 1, 15, 13, 20, 59, tzinfo=UTC)) == []
    assert plan(keys, at=datetime(2024, 1, 15, 13, 21, tzinfo=UTC)) == [("20240115t1320Z", keys)]


def test_upper_and_lower_case_stamps_of_one_window_are_one_window():
    """An upper-case T sorts before every lower-case t of the same day: the listing is not in time
    order across the two, and a window must not be handed out before both halves were listed."""
    keys = sorted(
        [
            "runs/raw/20240115t1301Z_a.json",
            "runs/raw/20240115T1302Z_b.json",
            "runs/raw/20240115t1306Z_c.json",
            "runs/raw/20240115T1307Z_d.json",
            "runs/raw/20240116T0001Z_e.json",
            "runs/raw/20240116t0002Z_f.json",
        ]
    )
    assert keys[0].startswith("runs/raw/20240115T")  # the order the store lists in
    got = plan(keys, at=datetime(2024, 1, 16, 1, tzinfo=UTC))
    assert got == [
        ("20240115t1305Z", ["runs/raw/20240115T1302Z_b.json", "runs/raw/20240115t1301Z_a.json"]),
        ("20240115t1310Z", ["runs/raw/20240115T1307Z_d.json", "runs/raw/20240115t1306Z_c.json"]),
        ("20240116t0005Z", ["runs/raw/20240116T0001Z_e.json", "runs/raw/20240116t0002Z_f.json"]),
    ]
