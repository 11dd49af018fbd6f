"""`hp compliance ENV`: the HIPAA evidence report, drawn from the environment's templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from health_platform.cli.common import AwsEnvArgument, OutOption, command_group, err, one, out
from health_platform.errors import ExitCode, exit_codes_help
from health_platform.paths import cdk_out_dir, compliance_reports_dir

app = command_group()

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="The folder to write compliance-ENV.md and compliance-ENV.html into"
        " [default: reports/compliance/].",
        show_default=False,
    ),
]


@app.command(
    "compliance",
    epilog=exit_codes_help(
        ExitCode.FINDINGS, ExitCode.TOOLCHAIN, extra="1 also when a safeguard has no evidence."
    ),
)
def compliance(env: AwsEnvArgument, output: OutputOption = None, out_dir: OutOption = None) -> None:
    """Synthesize ENV offline under the cdk-nag HIPAA Security pack and write a report
    (Markdown and HTML) mapping the HIPAA Security Rule's technical safeguards (164.312
    (a) to (e)) and the seed's Security Best Practices to evidence in the templates (stack,
    resource, property, value), with the cdk-nag results, every acknowledgement and its
    reason, and what the customer must do themselves. Exits 1 when a safeguard has no
    evidence; a MISSING item alone is listed, not fatal."""
    settings = one(env)
    folder = output or compliance_reports_dir()
    from health_platform.compliance_report import (
        MissingEvidenceError,
        check_writable,
        report_environment,
        write_report,
    )

    check_writable(folder)
    from health_platform.infra.toolchain import prepare_cdk_runtime

    prepare_cdk_runtime()
    with err.status("Synthesizing and checking…"):
        report = report_environment(settings, out_dir or cdk_out_dir())
    markdown, html = write_report(report, folder)
    for result in (*report.safeguards, *report.practices):
        if result.section.probes:
            colour = "green" if result.evidenced else "red"
            out.print(
                f"[{colour}]{result.section.title}[/]: {result.found} found,"
                f" {result.missing} missing",
                highlight=False,
            )
    out.print(f"[green]✓[/] {markdown}\n[green]✓[/] {html}", highlight=False)
    if report.gaps:
        raise MissingEvidenceError(f"No evidence in the templates for: {', '.join(report.gaps)}.")
