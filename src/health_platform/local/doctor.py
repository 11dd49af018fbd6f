"""`hp doctor local`: the local platform checked the way `hp doctor ENV` checks AWS, one
line per component: is it up and healthy, does the load balancer answer ready, are the
backups working (local.backup_health), is there disk left, is the certificate far from
expiry."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from health_platform.checks import Check, guarded
from health_platform.contract import READY_PATH
from health_platform.local.backup_health import backup_checks
from health_platform.local.config import LocalConfig
from health_platform.local.platform import status, supervisor_pid
from health_platform.local.tls import certificate_paths

# Below these the disk check warns, then fails: PostgreSQL stops accepting writes when its
# disk is full, and the WAL archive beside it grows by a segment every archive_timeout.
DISK_WARN_FREE_FRACTION = 0.10
DISK_FAIL_FREE_BYTES = 1 << 30
CERTIFICATE_WARN_DAYS = 30


def run_doctor(config: LocalConfig, now: datetime | None = None) -> list[Check]:
    if supervisor_pid(config) is None:
        return [Check("platform", "running", "fail", "the local platform is not running", "hp up")]
    moment = now or datetime.now(UTC)
    checks = _components(config)
    checks += guarded("api", "ready", lambda: [_ready(config)], "hp logs local api")
    checks += backup_checks(config, moment)
    checks += [_disk(config.state_dir)]
    if _other_disk(config.backups_dir, config.state_dir):
        checks += [_disk(config.backups_dir, "backups disk")]
    checks += guarded(
        "balancer", "certificate", lambda: [_certificate(config, moment)], "hp logs local balancer"
    )
    return checks


def _components(config: LocalConfig) -> list[Check]:
    checks = []
    for row in status(config):
        if row.read_only:
            checks.append(
                Check(
                    row.name,
                    "health",
                    "warn",
                    f"pid {row.pid}: restored and read-only, writes refused",
                    "hp restore local --promote",
                )
            )
        elif row.healthy and row.in_rotation:
            detail = f"pid {row.pid}, 127.0.0.1:{row.port}"
            if row.restarts:
                detail += f", restarted {row.restarts} time(s)"
            checks.append(
                Check(
                    row.name, "health", "warn" if row.restarts else "pass", detail, _logs(row.name)
                )
            )
        elif row.pid:
            state = "unhealthy" if not row.healthy else "out of the balancer's rotation"
            checks.append(
                Check(row.name, "health", "fail", f"pid {row.pid}: {state}", _logs(row.name))
            )
        else:
            checks.append(Check(row.name, "health", "fail", "not running", _logs(row.name)))
    return checks


def _logs(component: str) -> str:
    return f"hp logs local {component}"


def _ready(config: LocalConfig) -> Check:
    """What the ALB's health check sees: the API's readiness, asked of the API itself (the
    balancer sends only /api/ there), with the detail it gives when degraded."""
    url = f"http://127.0.0.1:{config.api_port}{READY_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return Check("api", "ready", "fail", f"{url} answered {refused.code}", "hp logs local api")
    detail = body.get("detail") or {}
    if detail:
        said = "; ".join(f"{name}: {text}" for name, text in detail.items())
        hint = "hp restore local --promote" if "database" in detail else "hp logs local postgres"
        return Check("api", "ready", "warn", f"degraded: {said}", hint)
    return Check("api", "ready", "pass", f"{url} answered ready")


def _other_disk(folder: Path, state_dir: Path) -> bool:
    """The backups on a disk of their own (`--backup-dir`): its space is checked too."""
    try:
        return folder.stat().st_dev != state_dir.stat().st_dev
    except OSError:
        return False


def _disk(folder: Path, component: str = "disk") -> Check:
    usage = shutil.disk_usage(folder)
    detail = f"{usage.free / (1 << 30):.1f} GiB free of {usage.total / (1 << 30):.1f} GiB"
    hint = f"free space on the disk holding {folder}"
    if usage.free < DISK_FAIL_FREE_BYTES:
        return Check(component, "free space", "fail", detail, hint)
    if usage.free < usage.total * DISK_WARN_FREE_FRACTION:
        return Check(component, "free space", "warn", detail, hint)
    return Check(component, "free space", "pass", detail)


def _certificate(config: LocalConfig, now: datetime) -> Check:
    path = certificate_paths(config.path("tls"))[0]
    openssl = shutil.which("openssl") or "openssl"
    printed = subprocess.run(  # noqa: S603
        [openssl, "x509", "-noout", "-enddate", "-in", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    expires = datetime.strptime(
        printed.strip().removeprefix("notAfter="), "%b %d %H:%M:%S %Y %Z"
    ).replace(tzinfo=UTC)
    left = expires - now
    detail = f"{path.name} expires {expires:%Y-%m-%d} ({left.days} days)"
    hint = "delete the tls folder of the state directory, then `hp down && hp up`"
    if left <= timedelta(0):
        return Check("balancer", "certificate", "fail", detail, hint)
    if left < timedelta(days=CERTIFICATE_WARN_DAYS):
        return Check("balancer", "certificate", "warn", detail, hint)
    return Check("balancer", "certificate", "pass", detail)
