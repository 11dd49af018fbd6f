"""`make bench-dr`: what the local backups cost and what a drill measures, on a platform of
its own (own ports and state folder; the API's rate limits raised so one machine can write
fast).

1. Archive growth: 10,000 acknowledged writes (observations, each with its audit record)
   from four patients, then the WAL switched and archived; the repository's WAL archive
   and the WAL PostgreSQL wrote are measured before and after.
2. Drills: `hp dr drill local` runs DRILLS times while a patient keeps writing; each run's
   RPO and RTO are printed, then the medians, against the local goals.

Prints figures; not a test."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from benchmarks.patient_writes import Patient
from health_platform.contract import env_name
from health_platform.local.backups import pgbackrest_for
from health_platform.local.components import libpq_url
from health_platform.local.config import PORT_NAMES
from health_platform.local.pgbackrest import lsn_of
from health_platform.local.platform import credentials_of, saved_config
from health_platform.local.ports import free_ports
from health_platform.local.wal import wait_until_archived
from health_platform.recovery import LOCAL_RPO_GOAL_SECONDS, LOCAL_RTO_GOAL_SECONDS

WRITES = 10_000
WRITERS = 4
DOCUMENTS = 20
DRILLS = 3
BACKGROUND_WRITES_PER_SECOND = 20
PORT_FLAGS = PORT_NAMES


def hp(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "health_platform.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"hp {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def wal_position(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    return lsn_of(str(row[0])) if row else 0


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="hp-bench-dr-"))
    state.chmod(0o755)
    flags = ["--state-dir", str(state)]
    ports = [
        f"--{name}-port={port}"
        for name, port in zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True)
    ]
    fast = {**os.environ, env_name("rate_per_address"): "10000000"}
    fast[env_name("rate_per_user")] = "10000000"
    hp("up", *flags, *ports, env=fast)
    try:
        config = saved_config(state)
        superuser = libpq_url(config, credentials_of(config), "superuser")
        backrest = pgbackrest_for(config)
        deadline = time.monotonic() + 120
        while backrest.info().latest is None:
            if time.monotonic() > deadline:
                raise SystemExit("no first backup after 120 s")
            time.sleep(1)
        cafile = str(config.path("tls", "localhost.crt"))
        patients = [Patient(config.url, cafile).sign_up() for _ in range(WRITERS)]
        archive = config.backups_dir / "pgbackrest" / "archive"
        archive_before, wal_before = folder_bytes(archive), wal_position(superuser)

        began = time.perf_counter()
        with ThreadPoolExecutor(WRITERS) as pool:
            batches = [
                pool.submit(lambda p=patient: [p.observation() for _ in range(WRITES // WRITERS)])
                for patient in patients
            ]
            for batch in batches:
                batch.result()  # a refused write stops the benchmark
        took = time.perf_counter() - began
        wal_after = wal_position(superuser)
        wait_until_archived(superuser, wal_after, lambda _: None)
        archive_after = folder_bytes(archive)
        print(f"{WRITES} writes in {took:.1f} s ({WRITES / took:.0f}/s) by {WRITERS} patients")
        print(
            f"WAL written: {(wal_after - wal_before) / 1e6:.1f} MB;"
            f" archive growth: {(archive_after - archive_before) / 1e6:.1f} MB"
            f" per {WRITES} writes (compressed by pgBackRest, zstd)"
        )
        for _ in range(DOCUMENTS):
            patients[0].document(100_000)

        stop = threading.Event()

        def keep_writing() -> None:
            deadline = time.monotonic() + DRILLS * 120
            while not stop.is_set() and time.monotonic() < deadline:
                patients[1].observation()
                time.sleep(1 / BACKGROUND_WRITES_PER_SECOND)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        rpo, rto = [], []
        try:
            for run in range(DRILLS):
                time.sleep(7)  # drills at different points of the archive's cycle
                report_file = state / f"drill-{run}.json"
                hp("dr", "drill", "local", "--json", str(report_file), *flags)
                report = json.loads(report_file.read_text())
                rows = {t["name"]: t["rows"] for t in report["tables"]}
                print(
                    f"drill {run + 1}: verified={report['verified']}"
                    f" RPO {report['rpo_seconds']:.1f} s, RTO {report['rto_seconds']:.1f} s,"
                    f" {rows.get('observations')} observations,"
                    f" {rows.get('audit_records')} audit records"
                )
                rpo.append(report["rpo_seconds"])
                rto.append(report["rto_seconds"])
        finally:
            stop.set()
            writer.join()
        print(
            f"median RPO {statistics.median(rpo):.1f} s (goal {LOCAL_RPO_GOAL_SECONDS} s),"
            f" median RTO {statistics.median(rto):.1f} s (goal {LOCAL_RTO_GOAL_SECONDS} s)"
        )
        print(f"repository: {folder_bytes(config.backups_dir / 'pgbackrest') / 1e6:.1f} MB")
    finally:
        hp("down", *flags)
        hp("reset", "local", "--yes", "--delete-backups", *flags)


if __name__ == "__main__":
    main()
