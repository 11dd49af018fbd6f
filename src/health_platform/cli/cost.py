"""`hp cost ENV|--all`: the monthly estimate of an environment's AWS bill by component,
beside the seed specification's literal configuration. Offline: no credentials."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from health_platform.cli.common import (
    AllOption,
    OptionalEnvArgument,
    OutOption,
    command_group,
    err,
    out,
    select,
    table,
)
from health_platform.errors import exit_codes_help
from health_platform.paths import cdk_out_dir

if TYPE_CHECKING:
    from health_platform.cost.estimate import Estimate, Report

app = command_group()

AssumeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--assume",
        metavar="NAME=VALUE",
        help="Override one assumption, e.g. `--assume requests_per_month=5e6` (repeatable).",
        show_default=False,
    ),
]


@app.command("cost", epilog=exit_codes_help())
def cost(
    env: OptionalEnvArgument = None,
    every: AllOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on standard output.")] = False,
    assume: AssumeOption = None,
    out_dir: OutOption = None,
) -> None:
    """Estimate the monthly AWS bill by component, from the dated price table in the
    repository (health_platform/cost/prices.yaml) and the assumptions it prints
    (health_platform/cost/assumptions.yaml, each overridable with `--assume`), beside the
    same estimate for the seed specification's literal configuration, with what our
    choices save. Counts of endpoints, keys, secrets and alarms come from the synthesized
    templates when cdk.out has them."""
    environments = select(env, every)
    from health_platform.cost.estimate import report

    result = report(environments, out_dir or cdk_out_dir(), assume or [])
    if as_json:
        out.print_json(json.dumps(result.to_json()))
    else:
        _render(result)
    if result.stale:
        err.print(_stale(result), highlight=False)


def _stale(result: Report) -> Text:
    return Text(
        f"warning: the price table was checked on {result.prices.checked}, more than a year"
        " ago; prices may have changed (its sources are in health_platform/cost/prices.yaml).",
        style="yellow",
    )


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _render(result: Report) -> None:
    from health_platform.cost.inventory import SEED_CHOICES

    prices = result.prices
    out.print(
        f"Public on-demand prices of {prices.region}, checked {prices.checked}"
        f"{' (more than a year ago)' if result.stale else ''}; USD a month.",
        highlight=False,
    )
    for estimate in result.estimates:
        _render_one(estimate)
    out.print("The seed's literal configuration: " + "; ".join(SEED_CHOICES) + ".", highlight=False)


def _render_one(estimate: Estimate) -> None:
    rows = [
        (o.name, _usd(o.monthly_usd), _usd(s.monthly_usd), o.detail)
        for o, s in zip(estimate.ours, estimate.seed, strict=True)
    ]
    rows.append(("total", _usd(estimate.monthly_usd), _usd(estimate.seed_literal_usd), ""))
    table(
        f"{estimate.environment}: monthly estimate",
        ("component", "ours", "seed", "ours: what"),
        rows,
    )
    share = estimate.share_of_seed
    verdict = f"{estimate.environment}: {share:.1%} of the seed-literal bill"
    if estimate.environment == "dev":
        from health_platform.cost.estimate import DEV_GOAL

        met = share <= DEV_GOAL
        verdict += f" (goal: at most {DEV_GOAL:.0%}: {'met' if met else 'not met'})"
    out.print(verdict, highlight=False)
    for choice, saved in estimate.savings:
        out.print(f"  saves {_usd(saved)}: {choice}", highlight=False)
    assumed = ", ".join(f"{name}={value:.12g}" for name, value in estimate.assumptions.items())
    out.print(f"  assumed: {assumed}", highlight=False)
    out.print(f"  counts from {estimate.counts_from}", highlight=False)
