"""`hp diagram ENV`: the architecture diagram, drawn from the environment's templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from health_platform.cli.common import AwsEnvArgument, OutOption, command_group, err, one, out
from health_platform.errors import ExitCode, exit_codes_help
from health_platform.paths import cdk_out_dir

app = command_group()

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="The file to write: .png, .svg, .pdf, .dot (Graphviz) or .mmd (Mermaid text)"
        " [default: architecture-ENV.png].",
        show_default=False,
    ),
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="Also write the model drawn (nodes, edges) as JSON here."),
]


@app.command("diagram", epilog=exit_codes_help(ExitCode.TOOLCHAIN, ExitCode.FINDINGS))
def diagram(
    env: AwsEnvArgument,
    output: OutputOption = None,
    model: ModelOption = None,
    out_dir: OutOption = None,
) -> None:
    """Synthesize ENV offline and draw its architecture from the templates: edge (CloudFront,
    WAF), the VPC's subnet tiers with the load balancer, services, database and cache,
    buckets, keys and secrets, monitoring, and the DR region's copies, each labelled with
    its names and sizes. `make diagram` regenerates docs/architecture-dev.png."""
    settings = one(env)
    target = output or Path(f"architecture-{settings.name}.png")
    from health_platform.diagram import check_writable, draw, output_format

    # Before the minute of synthesis, not after it.
    output_format(target)
    for path in (target, model):
        if path is not None:
            check_writable(path)
    from health_platform.infra.toolchain import prepare_cdk_runtime

    prepare_cdk_runtime()
    from health_platform.infra.synth import synthesize

    assembly = out_dir or cdk_out_dir()
    with err.status("Synthesizing…"):
        synthesize([settings], assembly)
    with err.status("Drawing…"):
        drawn = draw(assembly, settings.name, target, model)
    out.print(
        f"[green]✓[/] {target}  ({len(drawn.nodes)} parts, {len(drawn.edges)} connections)",
        highlight=False,
    )
