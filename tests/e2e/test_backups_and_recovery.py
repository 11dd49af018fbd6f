"""Backups and recovery of the local platform, on real PostgreSQL and pgBackRest, driven
with `hp` as an operator would: scheduled and manual backups, a disaster-recovery drill
while patients write, a restore to a time that stays read-only until promoted, and an
archive failure that shows within 30 s and clears by itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from benchmarks.patient_writes import Patient

from health_platform.contract import READY_PATH
from health_platform.local.components import libpq_url
from health_platform.local.platform import credentials_of, saved_config
from health_platform.recovery import LOCAL_RPO_GOAL_SECONDS, LOCAL_RTO_GOAL_SECONDS
from tests.e2e.test_local_platform import Platform, hp, platform, wait_until

__all__ = ["platform"]  # the module's platform: its own ports and state folder

WRITER_SECONDS = 60  # the longest a background writer runs, whatever happens
WRITE_EVERY = 0.25  # seconds: under the API's limit of 300 requests a minute per patient


def patient(platform: Platform) -> Patient:
    return Patient(platform.url, platform.certificate).sign_up()


def superuser(platform: Platform) -> str:
    config = saved_config(platform.state)
    return libpq_url(config, credentials_of(config), "superuser")


def database_of(platform: Platform) -> str:
    # The superuser's URL with the platform's database (its TLS options kept).
    return superuser(platform).replace("/postgres?", "/health_platform?", 1)


def backups_listed(platform: Platform) -> str:
    listed = hp("backup", "local", "--list", *platform.flags)
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_a_full_backup_is_taken_after_up_and_more_on_demand(platform: Platform) -> None:
    wait_until(lambda: " full " in backups_listed(platform), timeout=90)
    writer = patient(platform)
    writer.observation()
    document = writer.document()
    taken = hp("backup", "local", "--type", "incr", *platform.flags)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert "Incr backup taken" in taken.stdout
    copies = saved_config(platform.state).backups_dir / "documents" / "documents"
    assert [path.name for path in copies.rglob("*") if path.is_file()] == [document["id"]]
    listed = backups_listed(platform)
    assert " incr " in listed and "Restorable from" in listed
    verified = hp("backup", "local", "--verify", *platform.flags)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    status = hp("status", "local", *platform.flags)
    assert re.search(r"✓ newest backup: incr", status.stdout), status.stdout


def test_a_drill_while_patients_write_verifies_within_the_goals(
    platform: Platform, tmp_path: Path
) -> None:
    writer = patient(platform)
    for _ in range(3):
        writer.document(20_000)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        deadline = time.monotonic() + WRITER_SECONDS
        while not stop.is_set() and time.monotonic() < deadline:
            writer.observation(60 + len(written) % 40)
            written.append(1)
            time.sleep(WRITE_EVERY)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        wait_until(lambda: len(written) >= 20, timeout=30)
        report_file = tmp_path / "drill.json"
        drilled = hp("dr", "drill", "local", "--json", str(report_file), *platform.flags)
    finally:
        stop.set()
        thread.join()
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    report = json.loads(report_file.read_text())
    assert report["verified"] is True and report["meets_targets"] is True
    assert 0 <= report["rpo_seconds"] <= LOCAL_RPO_GOAL_SECONDS
    assert 0 < report["rto_seconds"] <= LOCAL_RTO_GOAL_SECONDS
    tables = {table["name"]: table for table in report["tables"]}
    assert tables["observations"]["rows"] >= 20
    for table in ("observations", "audit_records", "documents", "users"):
        assert tables[table]["rows"] == tables[table]["expected_rows"], table
        assert tables[table]["checksum_matches"] is True, table
    findings = {finding["name"]: finding for finding in report["findings"]}
    checked = int(findings["documents"]["detail"].split()[0])
    assert findings["documents"]["ok"] and checked >= 3
    assert "Targets met." in drilled.stdout
    assert list((platform.state / "backups" / "drills").glob("drill-local-*.md"))
    assert not any((platform.state / "drill").iterdir())  # the scratch cluster is gone
    assert hp("doctor", "local", *platform.flags).returncode == 0


def test_a_restore_to_a_time_is_read_only_until_promoted(platform: Platform) -> None:
    writer = patient(platform)
    kept = writer.observation(71)
    document = writer.document(30_000)
    time.sleep(1)
    target = datetime.now(UTC)
    time.sleep(1)
    lost = writer.observation(72)
    listed = writer.client.get("/api/observations").json()["items"]  # now in Redis' cache
    assert lost["id"] in [item["id"] for item in listed]

    restored = hp(
        "restore", "local", "--to", target.isoformat(), "--yes", *platform.flags, timeout=600
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Restored read-only" in restored.stdout and "read-only" in restored.stdout
    assert list((platform.state / "postgres").glob("data.before-restore-*"))

    # Sessions do not survive a restore; signing in writes an audit record, refused while
    # read-only, and so is every read of health data.
    api = writer.client
    assert api.get(f"/api/observations/{kept['id']}").status_code == 401
    refused = writer.login()
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "read_only"
    # What the operator looks at before promoting: the rows up to the target, none after.
    with psycopg.connect(database_of(platform)) as connection:
        found = {
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM observations WHERE id IN (%s, %s)", (kept["id"], lost["id"])
            )
        }
    assert found == {kept["id"]}
    ready = httpx.get(f"http://127.0.0.1:{platform.ports['api']}{READY_PATH}").json()
    assert ready["status"] == "degraded" and "read-only" in ready["detail"]["database"]
    status = hp("status", "local", *platform.flags)
    assert "read-only (restored)" in status.stdout
    assert "Writes are refused until `hp restore local --promote`" in status.stdout
    again = hp("up", *platform.flags)  # `hp up` says so too, not only "running"
    assert "restored and read-only" in again.stdout, again.stdout
    assert hp("db", "migrate", "local", *platform.flags).returncode == 6

    promoted = hp("restore", "local", "--promote", *platform.flags, timeout=600)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    writer.sign_in()
    # Before any write (which would refresh it): no cached list shows the rows undone.
    listed = [item["id"] for item in api.get("/api/observations").json()["items"]]
    assert kept["id"] in listed and lost["id"] not in listed
    assert api.get(f"/api/observations/{kept['id']}").status_code == 200
    assert api.get(f"/api/observations/{lost['id']}").status_code == 404
    assert writer.observation(73)["value"] == 73
    content = api.get(f"/api/documents/{document['id']}/content")
    assert content.status_code == 200 and len(content.content) > 30_000
    ready = httpx.get(f"http://127.0.0.1:{platform.ports['api']}{READY_PATH}").json()
    assert ready["status"] == "ready"
    again = hp("restore", "local", "--promote", *platform.flags)
    assert again.returncode == 6 and "nothing to promote" in again.stderr


def test_a_restore_needs_a_target_and_a_confirmation(platform: Platform) -> None:
    untold = hp("restore", "local", *platform.flags)
    assert untold.returncode == 2 and "--to latest" in untold.stderr
    unconfirmed = hp("restore", "local", "--to", "latest", *platform.flags)
    assert unconfirmed.returncode == 6 and "Traceback" not in unconfirmed.stderr
    too_old = hp("restore", "local", "--to", "2020-01-01T00:00:00Z", "--yes", *platform.flags)
    assert too_old.returncode == 2 and "outside what the backups can reach" in too_old.stderr
    assert hp("restore", "dev", "--to", "latest", "--yes").returncode == 2


def test_a_lost_state_folder_comes_back_from_the_backups(platform: Platform) -> None:
    """`hp reset local` keeps the backups; with the state's passwords gone too (a lost disk),
    `hp restore local --to latest` brings back everything written before the loss."""
    writer = patient(platform)
    last = writer.observation(74)
    assert hp("reset", "local", "--yes", *platform.flags).returncode == 0
    (platform.state / "credentials.json").unlink()
    ports = {f"HP_{name.upper()}_PORT": str(port) for name, port in platform.ports.items()}
    command = ["restore", "local", "--to", "latest", "--yes", *platform.flags]
    restored = subprocess.run(
        [sys.executable, "-m", "health_platform.cli", *command],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **ports},
        check=False,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (platform.state / "credentials.json").exists()
    promoted = hp("restore", "local", "--promote", *platform.flags, timeout=600)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    again = patient(platform)  # the session store started over; the accounts did not
    assert again.observation(75)["value"] == 75
    with psycopg.connect(database_of(platform)) as connection:
        row = connection.execute("SELECT value FROM observations WHERE id = %s", (last["id"],))
        assert row.fetchone() is not None


def wal_archive_line(platform: Platform) -> str:
    doctor = hp("doctor", "local", *platform.flags).stdout
    return next((line for line in doctor.splitlines() if "WAL archive" in line), doctor)


def test_an_archive_failure_shows_within_30_s_and_clears_by_itself(platform: Platform) -> None:
    """Last in the module: it breaks the archive. The failure shows in `hp doctor`, `hp
    status` and readiness within 30 s; after the repair it clears with no one's help within
    75 s (PostgreSQL's archiver tries again at least every minute)."""
    archive = saved_config(platform.state).backups_dir / "pgbackrest" / "archive"
    archive.chmod(0o000)  # pgBackRest (the postgres user) can no longer write there
    try:
        patient(platform).observation()
        with psycopg.connect(superuser(platform), autocommit=True) as connection:
            connection.execute("SELECT pg_switch_wal()")
        broke = time.monotonic()
        wait_until(lambda: wal_archive_line(platform).startswith("fail"), timeout=30)
        shown = time.monotonic() - broke
        assert re.search(r"^fail\s+backups\s+WAL archive: failing", wal_archive_line(platform))
        status = hp("status", "local", *platform.flags).stdout
        assert "✗ WAL archive: failing" in status
        ready = httpx.get(f"http://127.0.0.1:{platform.ports['api']}{READY_PATH}").json()
        assert ready["status"] == "degraded" and ready["detail"]["wal_archive"].startswith(
            "failing since"
        )
    finally:
        archive.chmod(0o750)
    repaired = time.monotonic()
    wait_until(lambda: wal_archive_line(platform).startswith("pass"), timeout=75)
    cleared = time.monotonic() - repaired
    print(f"archive failure shown after {shown:.1f} s, cleared {cleared:.1f} s after the repair")


@pytest.fixture(autouse=True)
def _bounded() -> None:
    """Nothing here may hang CI: each test's waits are bounded above."""
