"""`hp cost`: the estimate by component, its assumptions, the price table's age, the seed's
literal configuration beside ours, and the command's JSON and errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from health_platform.cli import main
from health_platform.cost.estimate import COMPONENTS, DEV_GOAL, estimate, report, with_checked
from health_platform.cost.inventory import DESIGN, average_floor, count_templates
from health_platform.cost.tables import InvalidAssumptionError, price_table
from health_platform.errors import ExitCode
from health_platform.settings import load_environment

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_component_is_priced_for_each_environment(name: str, tmp_path: Path) -> None:
    result = estimate(load_environment(name), tmp_path)
    assert [c.name for c in result.ours] == list(COMPONENTS)
    assert [c.name for c in result.seed] == list(COMPONENTS)
    # Every component but what an environment chose to go without (dev: interface endpoints).
    unpriced = {c.name for c in result.ours if c.monthly_usd <= 0}
    assert unpriced <= ({"VPC interface endpoints"} if name == "dev" else set()), unpriced
    assert result.monthly_usd == pytest.approx(sum(c.monthly_usd for c in result.ours))
    assert result.counts_from.startswith("the design")


def test_an_overridden_assumption_changes_the_figure(tmp_path: Path) -> None:
    dev = load_environment("dev")
    base = estimate(dev, tmp_path)
    busier = estimate(dev, tmp_path, ["requests_per_month=100e6", "cdn_gb_out_per_month=1000"])
    assert busier.assumptions["requests_per_month"] == 100e6
    assert busier.monthly_usd > base.monthly_usd + 80
    shorter = estimate(dev, tmp_path, ["hours_per_month=365"])
    assert shorter.monthly_usd < base.monthly_usd


def test_a_price_table_older_than_a_year_is_flagged(tmp_path: Path) -> None:
    prices = price_table()
    today = prices.checked + dt.timedelta(days=30)
    assert not report([load_environment("dev")], tmp_path, today=today).stale
    old = with_checked(prices, today - dt.timedelta(days=366))
    assert report([load_environment("dev")], tmp_path, today=today, prices=old).stale


def test_dev_is_at_most_half_of_the_seed_literal_bill(tmp_path: Path) -> None:
    """Issue 16's goal, with every HIPAA control kept (Multi-AZ, the WAF, encryption, backups):
    Spot, one NAT gateway, no interface endpoints, one cache node, Graviton, Valkey, no
    public IPv4 on the load balancer and office hours."""
    assert estimate(load_environment("dev"), tmp_path).share_of_seed <= DEV_GOAL


def test_the_seed_literal_dev_costs_more_than_ours(tmp_path: Path) -> None:
    dev = estimate(load_environment("dev"), tmp_path)
    assert dev.seed_literal_usd > dev.monthly_usd
    saved = dict(dev.savings)
    assert "Fargate Spot instead of on demand" in saved
    assert "1 NAT gateway(s) for 2 zones" in saved


def test_graviton_classes_are_priced_as_a_saving_on_the_seeds_t3(tmp_path: Path) -> None:
    dev = load_environment("dev")
    result = estimate(dev, tmp_path)
    saved = dict(result.savings)["db.t4g.micro instead of the seed's db.t3.micro"]
    on_t3 = dev.model_copy(
        update={"rds": dev.rds.model_copy(update={"instance_class": "db.t3.micro"})}
    )
    assert saved == pytest.approx(estimate(on_t3, tmp_path).monthly_usd - result.monthly_usd)
    assert not [choice for choice, _ in estimate(on_t3, tmp_path).savings if "db.t" in choice]


def test_office_hours_bill_the_database_and_the_tasks_for_their_share_of_the_week(
    tmp_path: Path,
) -> None:
    dev = load_environment("dev")
    assert dev.office_hours is not None  # dev's cost option
    result = estimate(dev, tmp_path)
    always = estimate(dev.model_copy(update={"office_hours": None}), tmp_path)
    ours, around_the_clock = (
        {c.name: c.monthly_usd for c in side.ours} for side in (result, always)
    )
    tasks, database = (dev.office_hours.running_share(database=d) for d in (False, True))
    assert ours["ECS Fargate"] == pytest.approx(around_the_clock["ECS Fargate"] * tasks)
    assert ours["RDS instances"] == pytest.approx(around_the_clock["RDS instances"] * database)
    assert ours["ElastiCache"] == around_the_clock["ElastiCache"]  # Redis cannot be stopped
    saved = dict(result.savings)[f"Stopped outside office hours ({dev.office_hours.describe()})"]
    assert saved == pytest.approx(always.monthly_usd - result.monthly_usd)
    assert result.seed_literal_usd == pytest.approx(always.seed_literal_usd)


def test_a_load_balancer_reached_over_ipv6_pays_for_no_public_ipv4(tmp_path: Path) -> None:
    dev = load_environment("dev")
    assert dev.edge.origin_ip == "ipv6"
    result = estimate(dev, tmp_path)
    over_ipv4 = dev.model_copy(update={"edge": dev.edge.model_copy(update={"origin_ip": "ipv4"})})
    before = estimate(over_ipv4, tmp_path)
    saved = dict(result.savings)[
        "No public IPv4 address on the load balancer (CloudFront over IPv6)"
    ]
    assert saved == pytest.approx(before.monthly_usd - result.monthly_usd)
    assert saved == pytest.approx(2 * 730 * price_table()["public_ipv4_hour"])  # one per zone


def test_valkey_is_priced_below_the_seeds_redis(tmp_path: Path) -> None:
    prod = load_environment("prod")
    result = estimate(prod, tmp_path)
    on_redis = prod.model_copy(
        update={"elasticache": prod.elasticache.model_copy(update={"engine": "redis"})}
    )
    saved = dict(result.savings)[
        "cache.r6g.large (Valkey) instead of the seed's cache.r6g.large (Redis OSS)"
    ]
    assert saved == pytest.approx(estimate(on_redis, tmp_path).monthly_usd - result.monthly_usd)
    assert not [c for c, _ in estimate(on_redis, tmp_path).savings if "Valkey" in c]


def test_without_interface_endpoints_aws_api_calls_are_priced_through_the_nat(
    tmp_path: Path,
) -> None:
    dev = load_environment("dev")
    assert not dev.network.interface_endpoints  # dev's cost option
    result = estimate(dev, tmp_path)
    ours = {c.name: c for c in result.ours}
    assert ours["VPC interface endpoints"].monthly_usd == 0
    assert "GB of AWS API calls" in ours["NAT gateways"].detail
    with_endpoints = dev.model_copy(
        update={"network": dev.network.model_copy(update={"interface_endpoints": True})}
    )
    saved = dict(result.savings)["No interface endpoints (7 x 2 zones)"]
    assert saved == pytest.approx(
        estimate(with_endpoints, tmp_path).monthly_usd - result.monthly_usd
    )


def test_security_monitoring_is_priced_alike_for_ours_and_the_seeds(tmp_path: Path) -> None:
    result = estimate(load_environment("staging"), tmp_path)
    ours, seed = (
        next(c for c in side if c.name == "Security monitoring")
        for side in (result.ours, result.seed)
    )
    assert ours.monthly_usd == seed.monthly_usd > 0
    assert ours.detail == "GuardDuty, Security Hub, Config, Config rules, CloudTrail data events"
    quieter = estimate(load_environment("staging"), tmp_path, ["config_evaluations_per_month=0"])
    evaluations = result.assumptions["config_evaluations_per_month"]
    per_evaluation = price_table()["config_per_rule_evaluation"]
    assert quieter.monthly_usd == pytest.approx(result.monthly_usd - evaluations * per_evaluation)


def test_an_account_with_its_own_security_services_pays_only_for_the_pack(tmp_path: Path) -> None:
    staging = load_environment("staging")
    existing = estimate(staging.model_copy(update={"security_services": "existing"}), tmp_path)
    ours = {c.name: c for c in existing.ours}
    assert ours["Security monitoring"].detail == "Config rules, CloudTrail data events"
    assert ours["KMS"].detail == f"{DESIGN.kms_keys - 1} customer-managed keys"


def test_business_hours_raise_prods_average_floor() -> None:
    # 2 tasks, 4 from 07:00 to 19:00 UTC on weekdays.
    assert average_floor(load_environment("prod").ecs) == pytest.approx(2 + 2 * 12 * 5 / 168)
    assert average_floor(load_environment("dev").ecs) == 1


def test_counts_come_from_the_synthesized_templates(tmp_path: Path) -> None:
    endpoint = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface"}}
    gateway = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}}
    acl = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [{}, {}, {}]}}
    for part, resources in {
        "network": {"A": endpoint, "B": endpoint, "S3": gateway},
        "edge": {"Acl": acl, "Key": {"Type": "AWS::KMS::Key"}},
    }.items():
        template = tmp_path / f"health-platform-dev-{part}.template.json"
        template.write_text(json.dumps({"Resources": resources}))
    counts = count_templates("dev", tmp_path)
    assert counts is not None
    assert (counts.interface_endpoints, counts.waf_rules, counts.kms_keys) == (2, 3, 1)
    assert count_templates("prod", tmp_path) is None


def test_the_design_counts_match_the_infrastructure_code() -> None:
    from health_platform.infra.network.endpoints import INTERFACE_ENDPOINTS

    assert len(INTERFACE_ENDPOINTS) == DESIGN.interface_endpoints


def test_cost_all_json_gives_every_environment_and_the_seed_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "--all", "--json", "--out", str(tmp_path)]) == ExitCode.OK
    environments = json.loads(capsys.readouterr().out)["environments"]
    assert set(environments) == set(ENVIRONMENTS)
    for figures in environments.values():
        assert figures["monthly_usd"] > 0
        assert figures["seed_literal_usd"] > 0
        assert [c["name"] for c in figures["components"]] == list(COMPONENTS)


def test_cost_prints_a_table_with_the_assumptions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "dev", "--out", str(tmp_path), "--assume", "alb_lcus=2"]) == 0
    shown = capsys.readouterr().out
    assert "dev: monthly estimate" in shown
    assert "of the seed-literal bill (goal: at most 50%" in shown
    assert "alb_lcus=2," in shown


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["cost", "qa"], "Unknown environment 'qa'; known: dev, prod, staging."),
        (["cost"], "Name an environment (e.g. `dev`) or pass --all."),
        (["cost", "dev", "--assume", "requests_per_month"], "--assume 'requests_per_month' is"),
        (["cost", "dev", "--assume", "visitors=3"], "--assume 'visitors=3' is not NAME=NUMBER"),
        (["cost", "dev", "--assume", "alb_lcus=-1"], "'-1' is not a number of zero or more."),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], sentence: str
) -> None:
    assert main(argv) == ExitCode.INVALID_INPUT == InvalidAssumptionError.exit_code
    said = capsys.readouterr().err.strip()
    assert said.startswith("error: ")
    assert sentence in said
    assert "\n" not in said


def test_hp_cost_warns_when_the_price_table_is_old(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = with_checked(price_table(), dt.date.today() - dt.timedelta(days=400))
    monkeypatch.setattr("health_platform.cost.estimate.price_table", lambda: old)
    assert main(["cost", "dev", "--json", "--out", str(tmp_path)]) == ExitCode.OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["price_table"]["stale"] is True
    assert "more than a year ago" in captured.err
