"""Backups that CloudFormation deploys and AWS then cannot take, copy or restore: the RDS
automated-backup replication into the DR region (an AwsCustomResource call) and AWS
Backup's restore testing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from health_platform.infra.compliance.deployability.model import (
    Environment,
    Resource,
    Rule,
    literal,
    render,
)
from health_platform.infra.compliance.deployability.regions import (
    arn_region,
    key_region,
    sdk_calls,
)

START_REPLICATION = "StartDBInstanceAutomatedBackupsReplication"
RETENTION_DAYS = range(1, 35 + 1)

# AWS Backup's names of restore testing plans and selections.
RESTORE_TESTING_NAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
VALIDATION_WINDOW_HOURS = range(0, 168 + 1)
MAX_PROTECTED_ARNS = 30
# Restore metadata is a map of strings: these overrides are lists written as JSON arrays.
LIST_OVERRIDES = (
    "vpcsecuritygroupids",
    "availabilityzones",
    "enablecloudwatchlogsexports",
    "securitygroupids",
    "subnetids",
)


def _backup_replication(env: Environment) -> Iterator[tuple[Resource, str]]:
    for resource, call, references in sdk_calls(env, START_REPLICATION):
        parameters = call.get("parameters") or {}
        region = call.get("region")
        if not isinstance(region, str):
            yield (
                resource,
                "runs in its stack's region: RDS takes this call in the destination region",
            )
            continue
        if env.dr_region and region != env.dr_region:
            yield (
                resource,
                f"replicates to {region}, not the environment's DR region {env.dr_region}",
            )
        source_arn = str(parameters.get("SourceDBInstanceArn", ""))
        if arn_region(source_arn) == region:
            yield (
                resource,
                f"replicates the backups of an instance in {region} into {region} itself",
            )
        yield from _retention(resource, parameters.get("BackupRetentionPeriod"))
        source = _instance(env, resource.stack, source_arn, references)
        if source is not None:
            yield from _source(resource, source, parameters)
        key = parameters.get("KmsKeyId")
        if isinstance(key, str):
            yield from _key(env, resource, region, key, references)


def _retention(resource: Resource, days: Any) -> Iterator[tuple[Resource, str]]:
    if isinstance(days, int) and days not in RETENTION_DAYS:
        yield resource, f"keeps replicated backups {days} days; RDS accepts 1 to 35"


def _instance(
    env: Environment, stack: str, arn: str, references: dict[str, Any]
) -> Resource | None:
    for marker, reference in references.items():
        if marker in arn:
            pointer = env.follow(stack, reference)
            if pointer and pointer.resource.type == "AWS::RDS::DBInstance":
                return pointer.resource
    return None


def _source(
    resource: Resource, source: Resource, parameters: dict[str, Any]
) -> Iterator[tuple[Resource, str]]:
    if source.properties.get("BackupRetentionPeriod") == 0:
        yield (
            resource,
            f"replicates {source.logical_id}'s automated backups, which are off (retention 0)",
        )
    if source.properties.get("StorageEncrypted") and not parameters.get("KmsKeyId"):
        yield (
            resource,
            f"replicates encrypted {source.logical_id} without KmsKeyId: an encrypted source's"
            " replicas need a key in the destination region",
        )


def _key(
    env: Environment, resource: Resource, region: str, key: str, references: dict[str, Any]
) -> Iterator[tuple[Resource, str]]:
    if ":alias/" in key or key.startswith("alias/"):
        yield resource, f"names the key by alias ({key}); the API takes the key's ARN"
        return
    where = key_region(env, resource.stack, references.get(key, key))
    if where and where != region:
        yield (
            resource,
            f"encrypts the replicas in {region} with a key in {where}: the key must be in the"
            " destination region",
        )


def _restore_testing(env: Environment) -> Iterator[tuple[Resource, str]]:
    plans = list(env.resources("AWS::Backup::RestoreTestingPlan"))
    plan_names = {literal(p.properties.get("RestoreTestingPlanName")) for p in plans}
    for plan in plans:
        yield from _name(plan, "RestoreTestingPlanName")
    for selection in env.resources("AWS::Backup::RestoreTestingSelection"):
        yield from _name(selection, "RestoreTestingSelectionName")
        named = selection.properties.get("RestoreTestingPlanName")
        pointer = env.follow(selection.stack, named)
        if not (
            (pointer and pointer.resource.type == "AWS::Backup::RestoreTestingPlan")
            or literal(named) in plan_names
        ):
            yield selection, "names no restore testing plan of this environment"
        hours = selection.properties.get("ValidationWindowHours")
        if isinstance(hours, int) and hours not in VALIDATION_WINDOW_HOURS:
            yield (
                selection,
                f"keeps the restored resource {hours} hours for validation; AWS Backup accepts"
                " 0 to 168",
            )
        arns = selection.properties.get("ProtectedResourceArns", [])
        if "*" in arns and len(arns) > 1:
            yield (
                selection,
                "names both the wildcard and specific resources in ProtectedResourceArns",
            )
        if len(arns) > MAX_PROTECTED_ARNS:
            yield (
                selection,
                f"names {len(arns)} resources; AWS Backup takes at most {MAX_PROTECTED_ARNS}",
            )
        yield from _restore_role(env, selection)


def _name(resource: Resource, key: str) -> Iterator[tuple[Resource, str]]:
    name = literal(resource.properties.get(key))
    if name is not None and not RESTORE_TESTING_NAME.match(name):
        yield (
            resource,
            f"{key} {name!r} is refused: only letters, digits and underscores, at most 50",
        )


def _restore_role(env: Environment, selection: Resource) -> Iterator[tuple[Resource, str]]:
    pointer = env.follow(selection.stack, selection.properties.get("IamRoleArn"))
    if pointer is None or pointer.resource.type != "AWS::IAM::Role":
        return
    document = pointer.resource.properties.get("AssumeRolePolicyDocument", {})
    if "backup.amazonaws.com" not in json.dumps(document):
        yield (
            selection,
            f"restores as {pointer.resource.logical_id}, which AWS Backup may not assume",
        )


def _restore_overrides(env: Environment) -> Iterator[tuple[Resource, str]]:
    for selection in env.resources("AWS::Backup::RestoreTestingSelection"):
        overrides = selection.properties.get("RestoreMetadataOverrides") or {}
        for key, value in overrides.items():
            if key.lower() not in LIST_OVERRIDES:
                continue
            rendered = render(value)
            try:
                parsed = json.loads(rendered[0]) if rendered else None
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, list):
                yield (
                    selection,
                    f"overrides {key} with something other than a JSON array in a string"
                    ' (for example ["sg-..."]): the restore job cannot read it',
                )


BACKUP_REPLICATION = Rule(
    "HP-DR-BACKUP-REPLICATION",
    "RDS automated-backup replication runs in the destination region with a key of that region",
    "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartDBInstanceAutomatedBackupsReplication.html",
    _backup_replication,
)
RESTORE_TESTING = Rule(
    "HP-BACKUP-RESTORE-TESTING",
    "Restore testing plans and selections are named, linked and sized as AWS Backup accepts",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingSelectionForList.html",
    _restore_testing,
)
RESTORE_OVERRIDES = Rule(
    "HP-BACKUP-RESTORE-OVERRIDES",
    "List-valued restore metadata overrides are JSON arrays in strings",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html",
    _restore_overrides,
)
