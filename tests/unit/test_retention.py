"""The buckets' retention table: what docs/operations.md shows is what the code sets."""

from __future__ import annotations

from health_platform.infra.data.retention import TABLE, markdown_table
from tests.conftest import REPO


def test_the_operations_guide_shows_the_table_the_buckets_use() -> None:
    assert markdown_table() in (REPO / "docs" / "operations.md").read_text()


def test_every_kind_of_bucket_lets_noncurrent_versions_go() -> None:
    assert all(kept.noncurrent_days > 0 for kept in TABLE)
    logs = [kept for kept in TABLE if "log" in kept.what.lower()]
    assert logs and all(kept.current_days for kept in logs)
