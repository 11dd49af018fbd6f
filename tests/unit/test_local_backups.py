"""The local backups' pure parts: pgBackRest's info, the schedule, WAL names and LSNs,
pg_waldump's commits, restore targets, the documents' copies, the drill's report."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from health_platform.errors import InvalidInputError, RefusedError
from health_platform.local import documents_backup
from health_platform.local.backups import due
from health_platform.local.config import LocalConfig, local_config
from health_platform.local.pgbackrest import lsn_of, parse_info
from health_platform.local.restore import check_target, parse_target, restore_options
from health_platform.local.wal import lsn_text, oldest_commit, segment_end_lsn
from health_platform.recovery import LOCAL_TARGETS, DrillReport, Finding, TableResult

SEGMENT = 16 * 1024 * 1024
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def backup_entry(
    label: str, kind: str, stop: datetime, segment: str = "000000010000000000000002"
) -> dict[str, object]:
    epoch = int(stop.timestamp())
    number = int(segment[16:], 16)
    return {
        "archive": {"start": segment, "stop": segment},
        "lsn": {"start": f"0/{number:X}000028", "stop": f"0/{number:X}000100"},
        "info": {
            "delta": 23000807,
            "repository": {"delta": 2811851, "size": 2811851},
            "size": 23000807,
        },
        "label": label,
        "timestamp": {"start": epoch - 3, "stop": epoch},
        "type": kind,
    }


def info_of(*backups: dict[str, object]) -> list[dict[str, object]]:
    """`pgbackrest info --output=json` as pgBackRest 2.45 writes it (trimmed)."""
    return [
        {
            "archive": [
                {"id": "15-1", "min": "000000010000000000000001", "max": "000000010000000000000009"}
            ],
            "backup": list(backups),
            "name": "hp",
            "status": {"code": 0, "message": "ok" if backups else "no valid backups"},
        }
    ]


def test_info_lists_backups_oldest_first_with_the_archive_range() -> None:
    info = parse_info(
        info_of(
            backup_entry("20261123-030723F", "full", NOW - timedelta(days=7)),
            backup_entry("20261129-030723F_20261129-040000D", "diff", NOW - timedelta(hours=2)),
        )
    )
    assert info.ok and [b.kind for b in info.backups] == ["full", "diff"]
    assert info.latest_of("full") is info.backups[0] and info.latest is info.backups[1]
    assert info.earliest_recovery_time == NOW - timedelta(days=7)
    assert (info.archive_min, info.archive_max) == (
        "000000010000000000000001",
        "000000010000000000000009",
    )
    assert info.backups[0].repository_bytes == 2811851


def test_info_of_a_repository_without_our_stanza() -> None:
    info = parse_info([])
    assert not info.ok and info.latest is None and info.earliest_recovery_time is None


@pytest.mark.parametrize(
    ("backups", "expected"),
    [
        ((), "full"),
        ((("full", timedelta(days=8)),), "full"),
        ((("full", timedelta(days=3)), ("diff", timedelta(hours=25))), "diff"),
        ((("full", timedelta(days=3)), ("diff", timedelta(hours=2))), None),
        ((("full", timedelta(hours=1)),), None),
    ],
)
def test_the_schedule_wants_a_weekly_full_and_a_daily_differential(
    backups: tuple[tuple[str, timedelta], ...], expected: str | None
) -> None:
    entries = [backup_entry(f"b{i}", kind, NOW - age) for i, (kind, age) in enumerate(backups)]
    assert due(parse_info(info_of(*entries)), NOW) == expected


def test_a_segment_name_gives_its_timeline_and_where_it_ends() -> None:
    assert segment_end_lsn("000000010000000000000002", SEGMENT) == (1, 3 * SEGMENT)
    assert segment_end_lsn("0000000300000001000000FF", SEGMENT) == (3, (256 + 255 + 1) * SEGMENT)
    assert lsn_text(3 * SEGMENT) == "0/3000000"
    assert lsn_of("1/A007CC0") == (1 << 32) + 0xA007CC0
    assert lsn_of(lsn_text(123456789012)) == 123456789012


def test_the_oldest_commit_is_read_from_pg_waldump() -> None:
    dumped = (
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        955, lsn: 0/0A007998,"
        " prev 0/0A007960, desc: COMMIT 2026-11-30 03:24:05.416929 UTC\n"
        "rmgr: Transaction len (rec/tot):    130/   130, tx:        954, lsn: 0/0A007698,"
        " prev 0/0A007660, desc: COMMIT 2026-11-30 03:24:05.408954 UTC; inval msgs: catcache 7\n"
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        957, lsn: 0/0A007C98,"
        " prev 0/0A007C60, desc: ABORT 2026-11-30 03:24:01.000000 UTC\n"
    )
    assert oldest_commit(dumped) == datetime(2026, 11, 30, 3, 24, 5, 408954, tzinfo=UTC)
    assert oldest_commit("pg_waldump: error: could not find a valid record") is None


def test_restore_targets() -> None:
    assert parse_target("latest") is None
    assert parse_target("2026-11-30T14:05:00Z") == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    assert parse_target("2026-11-30T14:05:00") == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="neither `latest` nor a time"):
        parse_target("yesterday")
    assert restore_options(None) == ["--type=standby"]
    assert restore_options(datetime(2026, 11, 30, 15, 5, tzinfo=UTC)) == [
        "--type=time",
        "--target=2026-11-30 15:05:00.000000+00",
        "--target-action=pause",
    ]


def test_a_restore_the_repository_cannot_make_is_refused_before_anything_stops() -> None:
    empty = parse_info(info_of())
    with pytest.raises(RefusedError, match="no backup to restore from"):
        check_target(empty, None, NOW)
    one = parse_info(info_of(backup_entry("f", "full", NOW - timedelta(hours=3))))
    check_target(one, NOW - timedelta(hours=1), NOW)
    check_target(one, None, NOW)
    for outside in (NOW - timedelta(hours=4), NOW + timedelta(minutes=1)):
        with pytest.raises(InvalidInputError, match="outside what the backups can reach"):
            check_target(one, outside, NOW)


def test_documents_are_copied_once_whole_and_partial_uploads_are_not(tmp_path: Path) -> None:
    uploads, copies = tmp_path / "uploads", tmp_path / "copies"
    (uploads / "documents" / "u1").mkdir(parents=True)
    (uploads / "documents" / "u1" / "d1").write_bytes(b"one")
    (uploads / "documents" / "u1" / "d2.partial").write_bytes(b"half")
    (uploads / ".ready").write_bytes(b"ok")
    assert documents_backup.sync(uploads, copies) == 1
    assert (copies / "documents" / "u1" / "d1").read_bytes() == b"one"
    assert not list(copies.rglob("*.partial")) and not (copies / ".ready").exists()
    assert documents_backup.sync(uploads, copies) == 0  # nothing new
    assert documents_backup.sync(tmp_path / "none", copies) == 0


def test_documents_verify_and_come_back_by_sha256(tmp_path: Path) -> None:
    uploads, copies = tmp_path / "uploads", tmp_path / "copies"
    for key, body in (("documents/u/a", b"alpha"), ("documents/u/b", b"beta")):
        (copies / key).parent.mkdir(parents=True, exist_ok=True)
        (copies / key).write_bytes(body)
    rows = [
        documents_backup.DocumentRow("documents/u/a", hashlib.sha256(b"alpha").hexdigest()),
        documents_backup.DocumentRow("documents/u/b", hashlib.sha256(b"other").hexdigest()),
        documents_backup.DocumentRow("documents/u/c", hashlib.sha256(b"gone").hexdigest()),
    ]
    checked = documents_backup.verify(rows, copies)
    assert (checked.checked, checked.missing, checked.different) == (
        3,
        ["documents/u/c"],
        ["documents/u/b"],
    )
    assert not checked.ok
    put_back = documents_backup.restore(rows, copies, uploads)
    assert (uploads / "documents/u/a").read_bytes() == b"alpha"
    assert not (uploads / "documents/u/b").exists()  # a copy that does not match stays out
    assert put_back.missing == ["documents/u/c"] and put_back.different == ["documents/u/b"]


def test_the_backup_folder_comes_from_a_flag_or_the_environment(tmp_path: Path) -> None:
    assert LocalConfig(state_dir=tmp_path).backups_dir == tmp_path / "backups"
    other = tmp_path / "other-disk"
    config = local_config({"state_dir": tmp_path}, env={"HP_BACKUP_DIR": str(other)})
    assert config.backups_dir == other.resolve()
    saved = json.loads(config.as_json())
    assert LocalConfig.from_saved(saved, tmp_path) == config


def test_a_drill_report_verifies_measures_and_renders() -> None:
    report = DrillReport("local", "latest", NOW, rpo_seconds=4.2, rto_seconds=12.5)
    report.targets = LOCAL_TARGETS
    report.tables = [TableResult("users", 3, 3, True), TableResult("observations", 10, 10, True)]
    report.findings = [Finding("documents", True, "2 checked by SHA-256")]
    assert report.verified and report.meets_targets
    body = json.loads(report.as_json())
    assert body["verified"] is True and body["rpo_seconds"] == 4.2
    assert body["rto_seconds"] == 12.5 and body["tables"][0]["verified"] is True
    assert "| observations | 10 | 10 | matches | yes |" in report.as_markdown()

    report.tables.append(TableResult("audit_records", 9, 10, False))
    assert not report.verified and not report.meets_targets
    assert "DIFFERS" in report.as_markdown()
    slow = DrillReport("local", "latest", NOW, rpo_seconds=1, rto_seconds=301)
    slow.targets = LOCAL_TARGETS
    assert slow.verified and not slow.meets_targets
    unmeasured = DrillReport("local", "latest", NOW)
    assert not unmeasured.verified


def test_reset_keeps_the_backups_and_their_passwords_unless_told(tmp_path: Path) -> None:
    from health_platform.local.platform import reset

    config = LocalConfig(state_dir=tmp_path / "state")
    for name in ("postgres/data/PG_VERSION", "uploads/documents/d", "backups/pgbackrest/x"):
        (config.path(name)).parent.mkdir(parents=True, exist_ok=True)
        config.path(name).write_text("x")
    config.path("credentials.json").write_text("{}")
    config.path("config.json").write_text("{}")
    with pytest.raises(RefusedError, match="Pass --yes"):
        reset(config, yes=False)
    kept = reset(config, yes=True)
    assert sorted(p.name for p in config.state_dir.iterdir()) == [
        "backups",
        "config.json",
        "credentials.json",
    ]
    assert kept == [config.backups_dir, config.path("credentials.json"), config.path("config.json")]
    assert reset(config, yes=True, delete_backups=True) == []
    assert not config.state_dir.exists()


def test_deleting_backups_in_a_folder_of_the_users_deletes_only_what_hp_put_there(
    tmp_path: Path,
) -> None:
    from health_platform.local.backups import delete_backups

    disk = tmp_path / "usb"
    config = LocalConfig(state_dir=tmp_path / "state", backup_dir=disk)
    for name in ("pgbackrest/x", "documents/d", "drills/r.md", "database-passwords.json", "mine"):
        (disk / name).parent.mkdir(parents=True, exist_ok=True)
        (disk / name).write_text("x")
    delete_backups(config)
    assert [p.name for p in disk.iterdir()] == ["mine"]
    (disk / "mine").unlink()
    delete_backups(config)
    assert not disk.exists()


def test_the_hand_written_archive_of_older_versions_is_retired(tmp_path: Path) -> None:
    from health_platform.local.backups import retire_legacy_copies

    config = LocalConfig(state_dir=tmp_path)
    for name in ("wal/000000010000000000000001", "base/base.tar.gz", "pgbackrest/backup.info"):
        config.path("backups", name).parent.mkdir(parents=True, exist_ok=True)
        config.path("backups", name).write_text("x")
    retired = retire_legacy_copies(config)
    assert retired == [config.path("backups", "wal"), config.path("backups", "base")]
    assert [p.name for p in config.backups_dir.iterdir()] == ["pgbackrest"]
    assert retire_legacy_copies(config) == []


def test_a_restore_to_a_time_starts_from_a_backup_that_leads_to_the_current_timeline() -> None:
    """Backups at 09:00 and 11:00 on timeline 1; a restore to 10:00 left timeline 1 at
    0/5000000 for timeline 2, whose first backup ended at 12:01. The 11:00 backup is newer
    than 10:00 but on the abandoned branch: a restore to 12:00:30 must start from 09:00."""
    from health_platform.local.restore import backup_for

    day = datetime(2026, 11, 30, tzinfo=UTC)
    info = parse_info(
        info_of(
            backup_entry("b1", "full", day + timedelta(hours=9), "000000010000000000000002"),
            backup_entry("b2", "diff", day + timedelta(hours=11), "000000010000000000000006"),
            backup_entry(
                "b3", "full", day + timedelta(hours=12, minutes=1), "000000020000000000000008"
            ),
        )
    )
    history = "1\t0/5000000\tbefore 2026-11-30 10:00:00+00\n"
    assert info.latest_timeline == 2
    assert backup_for(info, history, day + timedelta(hours=12, seconds=30)).label == "b1"
    assert backup_for(info, history, day + timedelta(hours=12, minutes=5)).label == "b3"
    with pytest.raises(InvalidInputError, match="No backup that leads to the current timeline"):
        backup_for(info, history, day + timedelta(hours=8))
    only_first = parse_info(
        info_of(
            backup_entry("b1", "full", day + timedelta(hours=9), "000000010000000000000002"),
            backup_entry("b2", "diff", day + timedelta(hours=11), "000000010000000000000006"),
        )
    )
    assert backup_for(only_first, "", day + timedelta(hours=11, minutes=30)).label == "b2"
    assert restore_options(day, info.backups[0])[-1] == "--set=b1"


def test_a_database_failure_during_a_local_command_is_one_sentence() -> None:
    import psycopg

    from health_platform.errors import LocalPlatformError
    from health_platform.local.platform import database_errors

    sentence = r"^The database failed while drilling: gone\."
    with pytest.raises(LocalPlatformError, match=sentence), database_errors("drilling"):
        raise psycopg.OperationalError("gone\nDETAIL: more")


def test_a_start_over_lost_data_with_backups_is_noticed(tmp_path: Path) -> None:
    from health_platform.local.backups import backups_without_a_database

    config = LocalConfig(state_dir=tmp_path)
    assert not backups_without_a_database(config)  # a first start: nothing to say
    info = config.backups_dir / "pgbackrest" / "backup" / "hp" / "backup.info"
    info.parent.mkdir(parents=True)
    info.write_text("[backup:current]\n")
    assert backups_without_a_database(config)  # the data folder is gone
    config.path("postgres", "data").mkdir(parents=True)
    config.path("postgres", "data", "PG_VERSION").write_text("15\n")
    assert not backups_without_a_database(config)
