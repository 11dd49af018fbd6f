"""The environment model: the real files are valid; every kind of mistake is reported with
its path, and all of a file's mistakes at once."""

from __future__ import annotations

import pytest

from health_platform.settings import (
    InvalidEnvironmentError,
    available_environments,
    load_environment,
    load_environments,
)
from tests.conftest import EnvironmentFiles


def problems_after(files: EnvironmentFiles, *edits: tuple[str, str, object]) -> list[str]:
    for name, key, value in edits:
        files.edit(name, key, value)
    with pytest.raises(InvalidEnvironmentError) as raised:
        load_environments(directory=files.directory)
    return [str(p) for p in raised.value.problems]


def test_the_shipped_environments_hold_the_seed_tables() -> None:
    envs = {env.name: env for env in load_environments()}
    assert sorted(envs) == ["dev", "prod", "staging"]
    # The seed's t3 classes are taken on Graviton (t4g): the same vCPUs and memory, cheaper.
    expected = {
        # name: cidr, azs, cpu, memory, rds class, cache node, min, max, retention
        "dev": ("10.0.0.0/16", 2, 256, 512, "db.t4g.micro", "cache.t4g.micro", 1, 3, 1),
        "staging": ("10.1.0.0/16", 2, 512, 1024, "db.t4g.small", "cache.t4g.small", 1, 5, 3),
        "prod": ("10.2.0.0/16", 3, 1024, 2048, "db.r6g.large", "cache.r6g.large", 2, 20, 30),
    }
    for name, (cidr, azs, cpu, mem, db, cache, low, high, days) in expected.items():
        env = envs[name]
        assert str(env.network.vpc_cidr) == cidr
        assert env.network.az_count == azs == len(env.network.availability_zones)
        assert (env.ecs.cpu, env.ecs.memory_mib) == (cpu, mem)
        assert env.rds.instance_class == db
        assert env.elasticache.node_type == cache
        assert (env.ecs.min_tasks, env.ecs.max_tasks) == (low, high)
        assert env.rds.backup_retention_days == days
    assert envs["prod"].rds.read_replica and envs["prod"].elasticache.replicas_per_shard > 0
    assert envs["prod"].dr_region and envs["prod"].rds.deletion_protection
    assert not envs["dev"].rds.read_replica


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("prod", "rds.backup_retention_days", 40), "prod.rds.backup_retention_days: 40 is above 35"),
        (("dev", "rds.backup_retention_days", 0), "dev.rds.backup_retention_days: 0 is below 1"),
        (("dev", "network.colour", "blue"), "dev.network.colour: is not a known key"),
        (("dev", "network.vpc_cidr", "10.0.0.0/33"), "dev.network.vpc_cidr: '10.0.0.0/33' is not an IPv4 network"),
        (("staging", "network.vpc_cidr", "10.0.0.0/16"), "staging.network.vpc_cidr: 10.0.0.0/16 overlaps dev's 10.0.0.0/16"),
        (("dev", "network.availability_zones", ["us-east-1a", "eu-west-1b"]), "dev.network.availability_zones[1]: 'eu-west-1b' is not a zone of region us-east-1"),
        (("dev", "network.availability_zones", ["us-east-1a"]), "dev.network.availability_zones: names 1 zones but az_count is 2"),
        (("dev", "network.nat_gateways", 3), "dev.network.nat_gateways: 3 is above az_count (2)"),
        (("dev", "ecs.min_tasks", 4), "dev.ecs.min_tasks: 4 is above max_tasks (3)"),
        (("dev", "ecs.memory_mib", 4096), "dev.ecs.memory_mib: 4096 MiB is not valid with 256 CPU units on Fargate"),
        (("dev", "ecs.cpu", 300), "dev.ecs.cpu: 300 is not a Fargate CPU value"),
        (("prod", "rds.deletion_protection", False), "prod.rds.deletion_protection: must be true in production"),
        (("prod", "dr_region", None), "prod.dr_region: is required in production"),
        (("prod", "dr_region", "us-east-1"), "prod.dr_region: us-east-1 is the primary region itself"),
        (("dev", "region", "mars-1"), "dev.region: 'mars-1' is not an AWS region name"),
        (("dev", "account", "1234"), "dev.account: '1234' does not match the pattern"),
        (("dev", "network.flow_log_retention_days", 10), "dev.network.flow_log_retention_days: 10 is not a retention CloudWatch Logs accepts"),
        (("prod", "rds.max_allocated_storage_gib", 50), "prod.rds.max_allocated_storage_gib: 50 must be above allocated_storage_gib (100)"),
        (("dev", "alerts.emails", ["not-an-address"]), "dev.alerts.emails[0]: 'not-an-address' is not an email address"),
        (("dev", "alerts.pagerduty_endpoint", "http://events.example.com/x"), "dev.alerts.pagerduty_endpoint: 'http://events.example.com/x' is not an https:// URL"),
        (("dev", "alerts.slack_endpoint", "https://hooks.slack.com/services/T0/B0/x"), "dev.alerts.slack_endpoint: a Slack webhook cannot confirm an SNS subscription, so it would never receive an alert; remove it and set alerts.slack.workspace_id and alerts.slack.channel_id (AWS Chatbot) instead"),
        (("dev", "alerts.slack", {"workspace_id": "workspace", "channel_id": "C0123456789"}), "dev.alerts.slack.workspace_id: 'workspace' does not match the pattern"),
        (("dev", "domain.name", "dev.other.example.org"), "dev.domain.name: dev.other.example.org is not inside hosted zone dev.health.example.com"),
        (("staging", "domain.hosted_zone_name", "dev.health.example.com"), "staging.domain.hosted_zone_name: dev.health.example.com is also dev's zone, in another account; give staging a zone of its own"),
        (("dev", "ecs.cpu", "lots"), "dev.ecs.cpu: 'lots' is not a whole number"),
        (("prod", "ecs.scheduled_scaling", [{"name": "peak", "cron": "0 7 ? * MON-FRI *", "min_tasks": 9, "max_tasks": 4}]), "prod.ecs.scheduled_scaling[0].min_tasks: 9 is above max_tasks (4)"),
        (("prod", "ecs.scheduled_scaling", [{"name": "peak", "cron": "at seven", "min_tasks": 1, "max_tasks": 4}]), "prod.ecs.scheduled_scaling[0].cron: 'at seven' does not match the pattern"),
        (("dev", "edge.cloudfront_prefix_list_id", "sg-123"), "dev.edge.cloudfront_prefix_list_id: 'sg-123' does not match the pattern"),
        (("dev", "name", "development"), "dev.name: 'development' differs from the file name 'dev'"),
        (("dev", "security_services", "maybe"), "dev.security_services: 'maybe' is not 'create' or 'existing'"),
        (("staging", "account", "111111111111"), "staging.security_services: dev also creates the security services of account 111111111111 in us-east-1"),
        (("dev", "edge.origin_ip", "ipv5"), "dev.edge.origin_ip: 'ipv5' is not 'ipv4', 'dualstack' or 'ipv6'"),
        (("dev", "elasticache.engine", "memcached"), "dev.elasticache.engine: 'memcached' is not 'valkey' or 'redis'"),
        (("dev", "office_hours.start", 420), "dev.office_hours.start: 420 is not a time: write it in quotes, e.g. '07:00'"),
        (("dev", "office_hours.stop", "7pm"), "dev.office_hours.stop: '7pm' is not a time of day as HH:MM"),
        (("dev", "office_hours.time_zone", "Mars/Olympus"), "dev.office_hours.time_zone: 'Mars/Olympus' is not an IANA time zone"),
        (("dev", "office_hours.days", ["MON", "FUN"]), "dev.office_hours.days[1]: 'FUN' is not 'MON', 'TUE'"),
        (("dev", "office_hours.stop", "14:00"), "dev.office_hours.stop: office hours of 07:00 are too short: the backups, the maintenance window and the secret's rotation need the database for 09:00"),
        (("dev", "office_hours.start", "00:10"), "dev.office_hours.start: 00:10 leaves no time to start the database 30 min before"),
        (("dev", "office_hours.stop", "23:50"), "dev.office_hours.stop: 23:50 leaves no time to stop the database 15 min after, that day"),
        (("dev", "rds.read_replica", True), "dev.office_hours: RDS cannot stop a database that has a read replica"),
        (("dev", "ecs.scheduled_scaling", [{"name": "peak", "cron": "0 7 ? * MON-FRI *", "min_tasks": 2, "max_tasks": 3}]), "dev.ecs.scheduled_scaling: the office hours set the task range themselves"),
        (("prod", "office_hours", {"time_zone": "UTC", "days": ["MON"], "start": "07:00", "stop": "19:00"}), "prod.office_hours: production runs around the clock"),
    ],
)  # fmt: skip
def test_each_mistake_is_named_with_its_path(
    environment_files: EnvironmentFiles, edit: tuple[str, str, object], message: str
) -> None:
    problems = problems_after(environment_files, edit)
    assert any(p.startswith(message) for p in problems), problems


def test_office_hours_without_daylight_saving_need_an_hour_less(
    environment_files: EnvironmentFiles,
) -> None:
    # The UTC windows (RDS, Secrets Manager) move by an hour on New York's clock, not Kolkata's.
    environment_files.edit("dev", "office_hours.time_zone", "Asia/Kolkata")
    environment_files.edit("dev", "office_hours.stop", "15:00")
    assert load_environment("dev", directory=environment_files.directory).office_hours
    environment_files.edit("dev", "office_hours.time_zone", "America/New_York")
    assert problems_after(environment_files) == [
        "dev.office_hours.stop: office hours of 08:00 are too short: the backups, the"
        " maintenance window and the secret's rotation need the database for 09:00 (with this"
        " zone's daylight saving time)"
    ]


def test_a_missing_key_is_reported(environment_files: EnvironmentFiles) -> None:
    environment_files.edit("staging", "rds.instance_class")
    with pytest.raises(InvalidEnvironmentError) as raised:
        load_environments(directory=environment_files.directory)
    assert [str(p) for p in raised.value.problems] == ["staging.rds.instance_class: is required"]


def test_every_problem_in_every_file_is_listed_at_once(environment_files: EnvironmentFiles) -> None:
    problems = problems_after(
        environment_files,
        ("prod", "rds.backup_retention_days", 40),
        ("prod", "elasticache.shards", 0),
        ("dev", "budget.monthly_limit_usd", -5),
        ("staging", "network.extra", 1),
    )
    assert sorted(problems) == [
        "dev.budget.monthly_limit_usd: -5 is not above 0",
        "prod.elasticache.shards: 0 is below 1",
        "prod.rds.backup_retention_days: 40 is above 35",
        "staging.network.extra: is not a known key",
    ]


def test_the_error_message_lists_problems_one_per_line(environment_files: EnvironmentFiles) -> None:
    environment_files.edit("prod", "rds.backup_retention_days", 40)
    environment_files.edit("prod", "ecs.min_tasks", 30)
    with pytest.raises(InvalidEnvironmentError) as raised:
        load_environments(directory=environment_files.directory)
    text = str(raised.value)
    assert text.startswith("Invalid environment configuration (2 problems):")
    assert "\n  - prod.rds.backup_retention_days: 40 is above 35" in text
    assert "\n  - prod.ecs.min_tasks: 30 is above max_tasks (20)" in text


def test_broken_yaml_is_a_problem_not_a_crash(environment_files: EnvironmentFiles) -> None:
    (environment_files.directory / "dev.yaml").write_text("name: dev\nnetwork: [unclosed\n")
    with pytest.raises(InvalidEnvironmentError) as raised:
        load_environments(directory=environment_files.directory)
    assert str(raised.value.problems[0]).startswith("dev: is not valid YAML at line")


def test_asking_for_one_environment_still_validates_the_others(
    environment_files: EnvironmentFiles,
) -> None:
    environment_files.edit("staging", "network.vpc_cidr", "10.2.0.0/16")
    with pytest.raises(InvalidEnvironmentError, match="overlaps"):
        load_environment("dev", directory=environment_files.directory)


def test_names_come_from_the_files(environment_files: EnvironmentFiles) -> None:
    assert available_environments(environment_files.directory) == ["dev", "prod", "staging"]
    assert load_environment("staging", environment_files.directory).name == "staging"


def test_environments_in_one_account_may_share_a_zone(environment_files: EnvironmentFiles) -> None:
    environment_files.edit("staging", "account", "111111111111")  # dev's account
    environment_files.edit("staging", "security_services", "existing")  # dev creates them
    environment_files.edit("staging", "domain.hosted_zone_name", "dev.health.example.com")
    environment_files.edit("staging", "domain.name", "staging.dev.health.example.com")
    assert load_environment("staging", environment_files.directory).account == "111111111111"


def test_a_slack_webhook_is_refused_with_what_to_set_instead(
    environment_files: EnvironmentFiles,
) -> None:
    environment_files.edit("prod", "alerts.slack_endpoint", "https://hooks.slack.com/services/x")
    environment_files.edit("dev", "rds.backup_retention_days", 0)
    problems = problems_after(environment_files)
    assert len(problems) == 2  # with the file's other problem, at once
    (webhook,) = [p for p in problems if "slack_endpoint" in p]
    assert "alerts.slack.workspace_id" in webhook


def test_one_environment_per_account_and_region_creates_the_security_services(
    environment_files: EnvironmentFiles,
) -> None:
    """GuardDuty, Security Hub, Access Analyzer and the Config recorder exist once per account
    and region: a second environment there uses them (`existing`); one in another region of
    the same account creates its own."""
    environment_files.edit("staging", "account", "111111111111")  # dev's account
    environment_files.edit("staging", "domain.hosted_zone_name", "dev.health.example.com")
    environment_files.edit("staging", "domain.name", "staging.dev.health.example.com")
    problems = problems_after(environment_files)
    assert problems == [
        "staging.security_services: dev also creates the security services of account"
        " 111111111111 in us-east-1 (GuardDuty, Security Hub, IAM Access Analyzer, the AWS"
        " Config recorder), which exist once per account and region; set security_services:"
        " existing in staging or dev"
    ]
    environment_files.edit("staging", "security_services", "existing")
    assert not load_environment("staging", environment_files.directory).creates_security_services
    environment_files.edit("staging", "security_services", "create")
    environment_files.edit("staging", "region", "us-west-2")
    environment_files.edit("staging", "network.availability_zones", ["us-west-2a", "us-west-2b"])
    assert load_environment("staging", environment_files.directory).creates_security_services
