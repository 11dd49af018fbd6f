"""`hp compliance ENV`: which HIPAA technical safeguards the platform meets, with evidence
read from its synthesized templates (so it cannot drift from them), the cdk-nag HIPAA
Security results with every acknowledgement and its reason, and what the customer must do
themselves. Written as Markdown and HTML.

`build_report` works on templates already loaded (tests hand it small ones);
`report_environment` synthesizes an environment under the compliance gate first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from health_platform.compliance_report.evidence import Evidence, Templates
from health_platform.compliance_report.safeguards import PRACTICES, SAFEGUARDS, Section
from health_platform.errors import ExitCode, InvalidInputError, UserError

if TYPE_CHECKING:
    from health_platform.infra.compliance.check import StackReport
    from health_platform.settings import EnvironmentSettings


class MissingEvidenceError(UserError):
    """The report is written, and at least one safeguard has no evidence in the templates."""

    exit_code = ExitCode.FINDINGS


@dataclass(frozen=True)
class SectionResult:
    section: Section
    items: list[Evidence]

    @property
    def found(self) -> int:
        return sum(item.found for item in self.items)

    @property
    def missing(self) -> int:
        return len(self.items) - self.found

    @property
    def evidenced(self) -> bool:
        """Has found evidence, or asks for none (it is the customer's)."""
        return not self.section.probes or self.found > 0


@dataclass
class Report:
    environment: str
    safeguards: list[SectionResult]
    practices: list[SectionResult]
    checks: list[StackReport] = field(default_factory=list)

    @property
    def gaps(self) -> list[str]:
        """Titles of the HIPAA safeguards with no evidence at all (the command then exits 1);
        a best practice without evidence shows in the report but does not fail it."""
        return [r.section.title for r in self.safeguards if not r.evidenced]


def _run(section: Section, templates: Templates) -> SectionResult:
    return SectionResult(section, [item for p in section.probes for item in p.run(templates)])


def build_report(
    environment: str, templates: Templates, checks: Sequence[StackReport] = ()
) -> Report:
    return Report(
        environment,
        [_run(section, templates) for section in SAFEGUARDS],
        [_run(section, templates) for section in PRACTICES],
        list(checks),
    )


def report_environment(settings: EnvironmentSettings, outdir: Path) -> Report:
    """Synthesize one environment under the HIPAA pack (as `hp infra check` does) and map
    its templates. Needs the CDK runtime prepared."""
    import json

    from health_platform.infra.compliance.check import run_check

    checks = run_check([settings], outdir)
    templates = {
        c.stack: json.loads((outdir / f"{c.stack}.template.json").read_text()) for c in checks
    }
    return build_report(settings.name, templates, checks)


def check_writable(directory: Path) -> None:
    """Fail before the minute of synthesis, not after it."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"{directory} exists and is not a directory.")


def write_report(report: Report, directory: Path) -> tuple[Path, Path]:
    """Write compliance-ENV.md and compliance-ENV.html into `directory`; return their paths."""
    from health_platform.compliance_report.render import to_html, to_markdown

    check_writable(directory)
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"compliance-{report.environment}.md"
    html = directory / f"compliance-{report.environment}.html"
    markdown.write_text(to_markdown(report))
    html.write_text(to_html(report))
    return markdown, html


__all__ = [
    "MissingEvidenceError",
    "Report",
    "SectionResult",
    "build_report",
    "check_writable",
    "report_environment",
    "write_report",
]
