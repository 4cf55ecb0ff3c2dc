"""The shard-count rule and the capacity table it gives."""

import pytest

from rollwise.summaries import capacity as c
from rollwise.summaries.settings import SummariesSettings


def test_the_default_shard_count_is_the_rules_for_the_default_volume():
    assert SummariesSettings.shards == c.shards_for(c.VOLUME) == 8


@pytest.mark.parametrize("volume", [0, 1, 99_999, 1_000_000, 5_000_000, 10_000_000, 50_000_000, 200_000_000])
@pytest.mark.parametrize("memory", [128, 256, 512, 1769, 3008])
def test_each_shard_gets_at_most_its_share_of_one_run(volume, memory):
    row = c.capacity(volume, memory)
    per_run = c.records_per_run(memory)
    assert row.shards >= 1 and volume / row.shards <= per_run / c.HEADROOM
    assert row.shards == 1 or volume / (row.shards - 1) > per_run / c.HEADROOM  # the fewest that do
    assert row.fits
    cpu = volume / row.shards * c.CPU_US_PER_RECORD / 1e6
    assert (row.cpu_seconds_per_shard, row.seconds_per_shard) == (round(cpu, 1), round(cpu / c.vcpu_share(memory), 1))


def test_the_arithmetic_of_one_run():
    # 240 s of a 256 MB function's 256/1769 of a vCPU, at the measured CPU per record
    assert c.records_per_run(256) == int(240 * 256 / 1769 / (c.CPU_US_PER_RECORD / 1e6))
    assert c.vcpu_share(3008) == 1.0  # one thread gets no more than one core
    with pytest.raises(ValueError, match="0 or more"):
        c.shards_for(-1)


def test_one_run_gets_through_a_night_only_when_the_whole_volume_is_one_shards_share():
    limit = int(c.records_per_run(256) / c.HEADROOM)  # about 1.28 million at the measured figures
    assert c.one_run_fits(limit) and not c.one_run_fits(limit + 1)
    assert c.capacity(limit).fanout is False and c.capacity(c.VOLUME).fanout is True  # the default volume needs the fan-out
    assert c.one_run_fits(0) and c.one_run_fits(c.VOLUME, memory_mb=3008) is (c.shards_for(c.VOLUME, 3008) == 1)
