"""The merge job's capacity rule: the memory a volume of files needs."""

import json

import pytest
from typer.testing import CliRunner

from rollwise.cli import app
from rollwise.lambda_limits import MEMORY_SIZES
from rollwise.runs import capacity as c


def test_the_arithmetic_of_one_invocation():
    # 255 s of a 128 MB function's 128/1769 of a vCPU, at the measured CPU per file
    assert c.files_per_invocation(128) == int(255 * 128 / 1769 * 1000 / c.CPU_MS_PER_FILE)
    assert c.files_per_invocation(3008) == c.files_per_invocation(1769)  # one thread at a time: no more than a core
    assert c.files_per_day(128) == c.files_per_invocation(128) * 288  # an invocation every 5 minutes
    with pytest.raises(ValueError, match="0 or more"):
        c.capacity(-1)


@pytest.mark.parametrize("volume", [0, 1, 100_000, 1_000_000, 3_000_000, 10_000_000, 30_000_000, 100_000_000])
def test_the_smallest_size_that_keeps_up_twice_over(volume):
    row = c.capacity(volume)
    if row.memory_mb is None:
        assert c.files_per_day(MEMORY_SIZES[-1]) < volume * c.HEADROOM
        return
    assert c.files_per_day(row.memory_mb) >= volume * c.HEADROOM
    smaller = [m for m in MEMORY_SIZES if m < row.memory_mb]
    assert all(c.files_per_day(m) < volume * c.HEADROOM for m in smaller)  # the smallest that does
    assert row.seconds_per_invocation <= (c.TIMEOUT_SECONDS - c.SAFETY_SECONDS) / c.HEADROOM


def test_the_deployed_size_keeps_up_with_a_million_files_a_day():
    assert c.capacity(1_000_000).memory_mb == c.MERGE_MEMORY_MB == 128


def test_the_command_prints_the_size_or_says_none_keeps_up():
    runner = CliRunner()
    small = runner.invoke(app, ["runs", "capacity", "--files-per-day", "1000000"])
    assert small.exit_code == 0 and small.output.startswith("128 MB for 1,000,000 files a day"), small.output
    doc = json.loads(runner.invoke(app, ["runs", "capacity", "--files-per-day", "5000000", "--json"]).output)
    assert doc["memory_mb"] == c.capacity(5_000_000).memory_mb > 128 and doc["fits"] is True
    huge = runner.invoke(app, ["runs", "capacity", "--files-per-day", "1000000000"])
    assert huge.exit_code == 1 and "no memory size keeps up" in huge.output
