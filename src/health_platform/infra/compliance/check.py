"""`hp infra check`: synthesize under the HIPAA Security pack, then cfn-lint every template
and run the deployability pack over each environment's templates.

The result is one report per stack. A finding is anything cfn-lint reports (errors and
warnings alike), any unacknowledged cdk-nag finding, any finding of CDK's own template
validation, and any violation of the deployability pack (what AWS would reject at deploy
time or break at run time).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import App, Validations
from cdk_nag import HIPAASecurityChecks

from health_platform.images import CONTAINER_DOCKERFILES
from health_platform.infra.app import EnvironmentStacks, build_app
from health_platform.infra.compliance import deployability
from health_platform.infra.compliance.acknowledgements import acknowledge
from health_platform.infra.compliance.cfn_lint import lint_template
from health_platform.infra.compliance.deployability.network import AWS_MANAGED_WEIGHTS
from health_platform.settings import EnvironmentSettings

CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"

VALIDATION_REPORT = "validation-report.json"


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    location: str
    message: str


@dataclass
class StackReport:
    stack: str
    region: str
    resources: int = 0
    acknowledged: list[str] = field(default_factory=list)  # "<rule> at <construct path>"
    reasons: dict[str, str] = field(default_factory=dict)  # each acknowledged entry's reason
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


def _validation_findings(report_file: Path) -> dict[str, list[Finding]]:
    """Findings of the validation plugins (cdk-nag, CDK's own), keyed by stack name."""
    by_stack: dict[str, list[Finding]] = defaultdict(list)
    if not report_file.exists():
        return by_stack
    for plugin in json.loads(report_file.read_text())["pluginReports"]:
        for violation in plugin["violations"]:
            for construct in violation["violatingConstructs"]:
                path = construct["constructPath"]
                stack, _, location = path.partition("/")
                by_stack[stack].append(
                    Finding(
                        plugin["pluginName"],
                        violation["ruleName"],
                        location,
                        violation["description"],
                    )
                )
    return by_stack


def run_check(environments: Sequence[EnvironmentSettings], outdir: Path) -> list[StackReport]:
    app, built = build_app(environments, outdir)
    return check_app(app, built, outdir)


def check_app(app: App, built: Sequence[EnvironmentStacks], outdir: Path) -> list[StackReport]:
    """Acknowledge, validate and lint an app made by build_app (synthesized into `outdir`)."""
    Validations.of(app).add_plugins(HIPAASecurityChecks(app))
    reports: dict[str, StackReport] = {}
    for env in built:
        for part, stack in env.stacks.items():
            report = StackReport(stack.stack_name, stack.region)
            for ack, path in acknowledge(stack, part, env.settings):
                entry = f"{ack.rule} at {path}"
                report.acknowledged.append(entry)
                report.reasons[entry] = ack.reason
            reports[stack.stack_name] = report
    report_file = outdir / VALIDATION_REPORT
    report_file.unlink(missing_ok=True)
    try:
        app.synth()
    except RuntimeError:
        # A validation failure writes its report, read below; any other failure is not a
        # finding but a broken synthesis.
        if not report_file.exists():
            raise
    for stack_name, findings in _validation_findings(report_file).items():
        reports[stack_name].findings.extend(findings)
    for env in built:
        for violation in deployability.check_environment(deployability_view(env, outdir)):
            reports[violation.stack].findings.append(
                Finding(deployability.PACK, violation.rule, violation.location, violation.message)
            )
    for report in reports.values():
        template_file = outdir / f"{report.stack}.template.json"
        template = json.loads(template_file.read_text())
        report.resources = len(template.get("Resources", {}))
        report.findings.extend(
            Finding("cfn-lint", rule, location, message)
            for rule, location, message in lint_template(template_file, [report.region])
        )
    return list(reports.values())


def deployability_view(env: EnvironmentStacks, outdir: Path) -> deployability.Environment:
    """One environment's synthesized templates, as the deployability pack reads them."""
    settings = env.settings
    return deployability.Environment.from_files(
        [outdir / f"{stack.stack_name}.template.json" for stack in env.stacks.values()],
        dockerfiles=dict(CONTAINER_DOCKERFILES),
        weights={
            settings.edge.cloudfront_prefix_list_id: AWS_MANAGED_WEIGHTS[CLOUDFRONT_ORIGIN_FACING]
        },
        regions={stack.stack_name: stack.region for stack in env.stacks.values()},
        account=settings.account,
        dr_region=settings.dr_region,
    )
