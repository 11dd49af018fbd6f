"""What an RDS instance class admits, and each API task's share of it."""

from __future__ import annotations

import pytest

from health_platform.infra.data.connections import max_connections, memory_gib, per_task


@pytest.mark.parametrize(
    ("instance_class", "gib"),
    [
        ("db.t3.micro", 1),
        ("db.t4g.medium", 4),
        ("db.m6g.large", 8),
        ("db.r6g.large", 16),
        ("db.r6g.2xlarge", 64),
        ("db.m5.12xlarge", 192),
    ],
)
def test_memory_follows_family_and_size(instance_class: str, gib: int) -> None:
    assert memory_gib(instance_class) == gib


def test_connections_stay_under_what_rds_measures() -> None:
    # db.t2.small (2 GiB) admits 198 by RDS's formula on its real usable memory.
    assert 180 <= max_connections("db.t2.small") <= 198
    assert max_connections("db.r6g.16xlarge") == 5000  # RDS's ceiling


def test_a_task_share_is_the_default_at_most_and_refused_when_too_small() -> None:
    assert per_task("db.r6g.large", 40) == 30
    assert per_task("db.t3.micro", 6) == (max_connections("db.t3.micro") - 10) // 6
    with pytest.raises(ValueError, match="too few"):
        per_task("db.t3.micro", 40)
    with pytest.raises(ValueError, match="unknown RDS instance class"):
        memory_gib("db.t3.enormous")
