"""The buckets' retention table: what docs/operations.md shows is what the code sets."""

from __future__ import annotations

from health_platform.infra.data.retention import (
    AUDIT_TRAIL,
    CONFIGURATION_HISTORY,
    SIX_YEARS,
    TABLE,
    markdown_table,
)
from tests.conftest import REPO


def test_the_operations_guide_shows_the_table_the_buckets_use() -> None:
    assert markdown_table() in (REPO / "docs" / "operations.md").read_text()


def test_every_kind_of_bucket_lets_noncurrent_versions_go() -> None:
    assert all(kept.noncurrent_days > 0 for kept in TABLE)
    logs = [kept for kept in TABLE if "log" in kept.what.lower()]
    assert logs and all(kept.current_days for kept in logs)


def test_the_records_of_what_was_done_are_kept_six_years() -> None:
    """45 CFR 164.316(b)(2): the audit trail, and AWS Config's history of the safeguards."""
    assert AUDIT_TRAIL.current_days == CONFIGURATION_HISTORY.current_days == SIX_YEARS
    assert SIX_YEARS >= 6 * 365
