"""How long each kind of bucket keeps what it holds: the retention table docs/operations.md
shows (a test ties the two). Versioning keeps every overwritten or deleted object as a
noncurrent version; without an end, copies of health data would stay for ever.

`current_days`: current objects expire (None: the application deletes them, or never);
`noncurrent_days`: a noncurrent version is deleted this long after it stopped being
current (the window to recover a deletion)."""

from __future__ import annotations

from dataclasses import dataclass

# HIPAA keeps the documentation of what was done six years (45 CFR 164.316(b)(2)); the
# audit trail is that record, and AWS Config's history of each resource's configuration
# is the record of the safeguards in place.
SIX_YEARS = 6 * 365 + 2


@dataclass(frozen=True)
class Retention:
    what: str
    current_days: int | None
    noncurrent_days: int


LOGS = Retention("access logs (S3 server access, ALB, CloudFront)", 365, 30)
AUDIT_TRAIL = Retention("CloudTrail log files", SIX_YEARS, 30)
CONFIGURATION_HISTORY = Retention("AWS Config's configuration history and snapshots", SIX_YEARS, 30)
HEALTH_DATA = Retention("patients' documents, and their copies in the DR region", None, 90)
BACKUPS = Retention("database exports, and their copies in the DR region", None, 35)
STATIC = Retention("the frontend's static assets", None, 30)

TABLE = (HEALTH_DATA, BACKUPS, STATIC, LOGS, AUDIT_TRAIL, CONFIGURATION_HISTORY)


def markdown_table() -> str:
    """The table as docs/operations.md shows it."""
    rows = [
        "| what | current objects | noncurrent versions |",
        "| --- | --- | --- |",
        *(
            f"| {kept.what} | "
            + (
                f"expire after {kept.current_days} days"
                if kept.current_days
                else "kept until deleted"
            )
            + f" | deleted after {kept.noncurrent_days} days |"
            for kept in TABLE
        ),
    ]
    return "\n".join(rows)
