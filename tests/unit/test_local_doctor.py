"""`hp doctor local`'s checks that need no running platform: disk space, the certificate's
expiry, and the rule that every warning or failure says what to do."""

from __future__ import annotations

import shutil
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from health_platform.checks import Check, failed
from health_platform.local.config import LocalConfig
from health_platform.local.doctor import DISK_FAIL_FREE_BYTES, _certificate, _disk
from health_platform.local.tls import ensure_certificate

Usage = namedtuple("Usage", "total used free")
GIB = 1 << 30


@pytest.mark.parametrize(
    ("free", "total", "status"),
    [
        (50 * GIB, 100 * GIB, "pass"),
        (5 * GIB, 100 * GIB, "warn"),
        (DISK_FAIL_FREE_BYTES - 1, 100 * GIB, "fail"),
    ],
)
def test_disk_space(
    free: int, total: int, status: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(total, total - free, free))
    check = _disk(tmp_path)
    assert check.status == status
    assert (check.hint != "") == (status != "pass")


@pytest.fixture
def config(tmp_path: Path) -> LocalConfig:
    ensure_certificate(tmp_path / "tls", valid_days=10)
    return LocalConfig(state_dir=tmp_path)


def test_a_certificate_near_its_end_warns_and_an_expired_one_fails(config: LocalConfig) -> None:
    now = datetime.now(UTC)
    assert _certificate(config, now).status == "warn"  # 10 days left
    assert _certificate(config, now - timedelta(days=400)).status == "pass"
    expired = _certificate(config, now + timedelta(days=11))
    assert expired.status == "fail" and failed([expired])
    assert "localhost.crt expires" in expired.detail


def test_a_warning_or_failure_without_a_hint_is_a_bug() -> None:
    with pytest.raises(ValueError, match="needs a hint"):
        Check("disk", "free space", "warn", "low")
    assert not failed([Check("disk", "free space", "warn", "low", "free some space")])


def test_backups_on_a_disk_of_their_own_have_their_space_checked_too(tmp_path: Path) -> None:
    from health_platform.local.doctor import _other_disk

    assert not _other_disk(tmp_path / "backups", tmp_path)  # not there yet: nothing to check
    (tmp_path / "backups").mkdir()
    assert not _other_disk(tmp_path / "backups", tmp_path)
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system here")
    assert _other_disk(shm, tmp_path)
