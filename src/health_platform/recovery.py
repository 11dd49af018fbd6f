"""What a disaster-recovery drill reports, locally and on AWS: the targets it is judged
against, the result per table, and the report as JSON and Markdown.

The seed's targets are RTO 4 h and RPO 1 h; the local platform aims far lower (a restore
of the benchmark's data should take minutes and lose at most a minute of writes)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

SEED_RPO_SECONDS = 3600
SEED_RTO_SECONDS = 4 * 3600
LOCAL_RPO_GOAL_SECONDS = 60
LOCAL_RTO_GOAL_SECONDS = 300


@dataclass(frozen=True)
class Targets:
    rpo_seconds: float
    rto_seconds: float


SEED_TARGETS = Targets(SEED_RPO_SECONDS, SEED_RTO_SECONDS)
LOCAL_TARGETS = Targets(LOCAL_RPO_GOAL_SECONDS, LOCAL_RTO_GOAL_SECONDS)


@dataclass(frozen=True)
class TableResult:
    """One table of the restored database. `expected_rows`/`checksum_matches` are None
    when there is no reference to compare with (a restore to a past time)."""

    name: str
    rows: int
    expected_rows: int | None = None
    checksum_matches: bool | None = None

    @property
    def verified(self) -> bool:
        return self.expected_rows in (None, self.rows) and self.checksum_matches is not False


@dataclass(frozen=True)
class Finding:
    """A check the drill made besides the tables: documents, schema, replication, copies."""

    name: str
    ok: bool
    detail: str


@dataclass
class DrillReport:
    environment: str
    target: str  # "latest", or the time restored to (ISO 8601)
    started_at: datetime
    rpo_seconds: float | None = None
    rto_seconds: float | None = None
    targets: Targets = SEED_TARGETS
    tables: list[TableResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how the figures were measured

    @property
    def verified(self) -> bool:
        """The restore is usable: every table and every other check agrees."""
        return (
            self.rto_seconds is not None
            and all(table.verified for table in self.tables)
            and all(finding.ok for finding in self.findings)
        )

    @property
    def meets_targets(self) -> bool:
        return (
            self.verified
            and self.rpo_seconds is not None
            and self.rto_seconds is not None
            and self.rpo_seconds <= self.targets.rpo_seconds
            and self.rto_seconds <= self.targets.rto_seconds
        )

    def as_json(self) -> str:
        return json.dumps(
            {
                "environment": self.environment,
                "target": self.target,
                "started_at": self.started_at.isoformat(),
                "verified": self.verified,
                "meets_targets": self.meets_targets,
                "rpo_seconds": self.rpo_seconds,
                "rto_seconds": self.rto_seconds,
                "targets": asdict(self.targets),
                "tables": [{**asdict(t), "verified": t.verified} for t in self.tables],
                "findings": [asdict(f) for f in self.findings],
                "notes": self.notes,
            },
            indent=2,
        )

    def as_markdown(self) -> str:
        def seconds(value: float | None) -> str:
            return "not measured" if value is None else f"{value:.1f} s"

        def optional(value: object) -> str:
            return "-" if value is None else str(value)

        lines = [
            f"# Disaster-recovery drill: {self.environment}",
            "",
            f"Started {self.started_at:%Y-%m-%d %H:%M:%S %Z}; restored to {self.target}.",
            "",
            "| | measured | target |",
            "| --- | --- | --- |",
            f"| verified | {'yes' if self.verified else 'NO'} | yes |",
            f"| RPO | {seconds(self.rpo_seconds)} | {self.targets.rpo_seconds:.0f} s |",
            f"| RTO | {seconds(self.rto_seconds)} | {self.targets.rto_seconds:.0f} s |",
            "",
            f"Targets {'met' if self.meets_targets else 'NOT met'}.",
            "",
        ]
        if self.tables:
            lines += [
                "## Tables",
                "",
                "| table | rows | expected | checksum | verified |",
                "| --- | --- | --- | --- | --- |",
            ]
            for table in self.tables:
                checksum = {None: "-", True: "matches", False: "DIFFERS"}[table.checksum_matches]
                lines.append(
                    f"| {table.name} | {table.rows} | {optional(table.expected_rows)}"
                    f" | {checksum} | {'yes' if table.verified else 'NO'} |"
                )
            lines.append("")
        if self.findings:
            lines += ["## Checks", ""]
            lines += [
                f"- {'ok' if f.ok else 'FAILED'}: {f.name}: {f.detail}" for f in self.findings
            ]
            lines.append("")
        if self.notes:
            lines += ["## How it was measured", ""]
            lines += [f"- {note}" for note in self.notes]
            lines.append("")
        return "\n".join(lines)
